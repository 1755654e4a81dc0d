// The invoice selection page: keep "Total to pay" in step with the ticked invoices.
(function () {
  "use strict";
  var form = document.querySelector("form.selection");
  var total = document.getElementById("selected-total");
  if (!form || !total) { return; }
  var lang = document.documentElement.lang === "es" ? "es-US" : "en-US";
  var money = new Intl.NumberFormat(lang, { style: "currency", currency: "USD" });
  function update() {
    var cents = 0;
    form.querySelectorAll("input[name=invoice]:checked").forEach(function (box) {
      cents += parseInt(box.getAttribute("data-balance-cents"), 10) || 0;
    });
    total.textContent = money.format(cents / 100);
  }
  form.addEventListener("change", update);
})();
