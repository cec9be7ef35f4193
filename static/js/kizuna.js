// Kizuna's only script besides htmx: send the CSRF token with every htmx request,
// and let buttons ask for confirmation without inline handlers (the CSP forbids them).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (meta) {
      event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  document.querySelectorAll("[data-dismiss]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = button.closest(".flash");
      if (target) { target.remove(); }
    });
  });
  var nav = document.querySelector("[data-nav-toggle]");
  if (nav) {
    nav.addEventListener("click", function () {
      var menu = document.getElementById(nav.getAttribute("aria-controls"));
      var open = nav.getAttribute("aria-expanded") === "true";
      nav.setAttribute("aria-expanded", open ? "false" : "true");
      if (menu) { menu.classList.toggle("open", !open); }
    });
  }
})();
