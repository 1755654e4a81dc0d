// The pay page ("Make Payments"): keep "Total to pay" and the credit-card "Transaction Fees" in
// step with the ticked invoices and the amounts typed. Progressive enhancement only: the server
// recomputes every amount and the fee when the page is sent.
(function () {
  "use strict";
  var form = document.querySelector("form.pay-form");
  if (!form) { return; }
  var total = document.getElementById("pay-total");
  var fee = document.getElementById("card-fee");
  var cardTotal = document.getElementById("card-total");
  var bp = parseInt(form.getAttribute("data-fee-bp"), 10) || 0;
  var lang = document.documentElement.lang === "es" ? "es-US" : "en-US";
  var money = new Intl.NumberFormat(lang, { style: "currency", currency: "USD" });
  var AMOUNT = /^\$? *([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?$/;

  function cents(text) {  // the server's grammar, in integers: no float ever holds money here
    var match = AMOUNT.exec(text.trim());
    if (!match) { return null; }
    var whole = parseInt(match[1].replace(/,/g, ""), 10);
    var frac = parseInt(((match[2] || "") + "00").slice(0, 2), 10);
    return whole * 100 + frac;
  }
  function show(node, value) { if (node) { node.textContent = money.format(value / 100); } }

  function update() {
    var sum = 0;
    form.querySelectorAll("input[name=invoice]").forEach(function (box) {
      var input = document.getElementById("amount-" + box.value);
      if (!input) { return; }
      input.disabled = !box.checked;
      if (!box.checked) { return; }
      var value = cents(input.value);
      var balance = parseInt(input.getAttribute("data-balance-cents"), 10) || 0;
      if (value !== null && value > 0 && value <= balance) { sum += value; }
    });
    var surcharge = Math.floor(sum * bp / 10000);
    show(total, sum);
    show(fee, surcharge);
    show(cardTotal, sum + surcharge);
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  // Card details go to the processor's tokeniser, never to us: only the token is posted.
  var fields = form.querySelector("[data-card-fields]");
  function showCardError(message) {
    var box = fields.querySelector("[data-card-error]");
    box.querySelector("p").textContent = message;
    box.hidden = false;
    box.setAttribute("tabindex", "-1");
    box.focus();
  }
  form.addEventListener("submit", function (event) {
    var card = form.querySelector("input[name=method][value=card]");
    if (!fields || !card || !card.checked) { return; }
    var inputs = fields.querySelectorAll("[data-card]");
    var number = fields.querySelector("[data-card=number]");
    if (!number || !number.value.trim()) { return; }  // the card already tokenised, if any
    event.preventDefault();
    var body = {};
    inputs.forEach(function (input) { body[input.getAttribute("data-card")] = input.value; });
    fetch(fields.getAttribute("data-tokens-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok || !data.token) {
          showCardError((data.error || {}).message || fields.getAttribute("data-unavailable"));
          return;
        }
        document.getElementById("card-token").value = data.token;
        inputs.forEach(function (input) { input.value = ""; });
        form.submit();
      });
    }).catch(function () { showCardError(fields.getAttribute("data-unavailable")); });
  });
  update();
})();
