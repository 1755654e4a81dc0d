// The sandbox's card form: the card fields go to the tokeniser (standing for the processor), and
// only the token goes on to our page. Without this script the form posts to the tokeniser itself,
// which redirects back with the token.
(function () {
  "use strict";
  var FIELDS = ["number", "exp_month", "exp_year", "cvc", "postal_code"];

  function showError(form, message) {
    var box = form.querySelector("[data-card-error]");
    box.querySelector("p").textContent = message;
    box.hidden = false;
    box.setAttribute("tabindex", "-1");
    box.focus();
  }

  function onSubmit(event) {
    var form = event.target;
    event.preventDefault();
    var inputs = {};
    var body = {};
    FIELDS.forEach(function (name) {
      inputs[name] = form.elements[name];
      body[name] = inputs[name] ? inputs[name].value : "";
    });
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok || !data.token) {
          var error = data.error || {};
          showError(form, error.message || form.getAttribute("data-unavailable"));
          var field = inputs[error.field];
          if (field) { field.setAttribute("aria-invalid", "true"); field.focus(); }
          return;
        }
        form.elements.card_token.value = data.token;
        // Strip the card fields: nameless and empty, they cannot reach our endpoint.
        FIELDS.forEach(function (name) {
          if (inputs[name]) { inputs[name].value = ""; inputs[name].removeAttribute("name"); }
        });
        form.elements.return_to.removeAttribute("name");
        var target = new URL(form.getAttribute("data-return-to"), window.location.origin);
        if (target.origin !== window.location.origin) { return; }
        // A GET form replaces its action's query: carry return_to's own parameters as fields.
        target.searchParams.forEach(function (value, key) {
          if (key === "card_token" || key === "card_error") { return; }
          var hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = key;
          hidden.value = value;
          form.appendChild(hidden);
        });
        form.action = target.pathname;
        form.method = "get";
        form.removeEventListener("submit", onSubmit);
        form.submit();
      });
    }).catch(function () {
      showError(form, form.getAttribute("data-unavailable"));
    });
  }

  document.querySelectorAll("form[data-card-sandbox]").forEach(function (form) {
    form.addEventListener("submit", onSubmit);
  });
})();
