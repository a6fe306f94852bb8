// The record page: forms answered with a validation error (4xx) still swap in, so the
// message shows next to the field at fault instead of nothing happening.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var d = ev.detail;
    var status = d.xhr ? d.xhr.status : 0;
    if ((status === 400 || status === 409 || status === 422) && d.elt && d.elt.closest("[data-swap-errors]")) {
      d.shouldSwap = true;
      d.isError = false;
    }
  });
})();
