// The invoice form: a running total as the vendor types (an addition; the server computes the
// invoice). Amounts are read as the server reads them: digits, thousands grouped by commas or not,
// a point for decimals; a line that does not read yet is left out, and the total says so.
(function () {
  "use strict";
  var form = document.querySelector("form[data-invoice-form]");
  var box = document.querySelector("[data-running-total]");
  if (!form || !box) { return; }
  var output = box.querySelector("output");
  var incomplete = box.querySelector("[data-incomplete]");
  var lang = document.documentElement.lang === "es" ? "es-US" : "en-US";
  var money = new Intl.NumberFormat(lang, { style: "currency", currency: box.getAttribute("data-currency") || "USD" });
  var NUMBER = /^(\d{1,3}(,\d{3})+|\d+)(\.(\d+))?$/;

  // The number as an integer count of 1/10^places, or null when it does not read.
  function scaled(text, places) {
    var clean = (text || "").replace(/[$\s]/g, "");
    if (clean === "") { return 0; }
    var match = NUMBER.exec(clean);
    if (!match) { return null; }
    var decimals = match[4] || "";
    if (decimals.length > places) { return null; }
    while (decimals.length < places) { decimals += "0"; }
    return parseInt(match[1].replace(/,/g, "") + decimals, 10);
  }

  function update() {
    var cents = 0;
    var unread = false;
    form.querySelectorAll(".line").forEach(function (line) {
      var field = function (name) { var input = line.querySelector("[name$='-" + name + "']"); return input ? input.value : ""; };
      var price = field("unit_price");
      if (!price.trim()) { return; }
      var quantity = scaled(field("quantity"), 3);
      var unit = scaled(price, 2);
      var rate = scaled(field("tax_rate"), 2);  // percent, in hundredths: basis points
      if (quantity === null || unit === null || rate === null) { unread = true; return; }
      var net = Math.round(quantity * unit / 1000);
      cents += net + Math.round(net * rate / 10000);
    });
    output.textContent = money.format(cents / 100);
    incomplete.hidden = !unread;
  }
  box.hidden = false;
  form.addEventListener("input", update);
  update();
})();
