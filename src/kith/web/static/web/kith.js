// Kith's own small script: keyboard shortcuts and search-result keyboard navigation.
// No inline handlers anywhere (the Content-Security-Policy forbids them).
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (ev) {
    var search = document.getElementById("global-search");
    if (!search) return;
    if (ev.key === "/" && !typing(document.activeElement) && !ev.ctrlKey && !ev.metaKey) {
      ev.preventDefault();
      search.focus();
      search.select();
      return;
    }
    var results = document.getElementById("search-results");
    if (!results) return;
    var links = Array.prototype.slice.call(results.querySelectorAll("a"));
    var at = links.indexOf(document.activeElement);
    if (ev.key === "ArrowDown" && (document.activeElement === search || at >= 0) && links.length) {
      ev.preventDefault();
      links[Math.min(at + 1, links.length - 1)].focus();
    } else if (ev.key === "ArrowUp" && at >= 0) {
      ev.preventDefault();
      if (at === 0) search.focus(); else links[at - 1].focus();
    } else if (ev.key === "Escape" && (document.activeElement === search || at >= 0)) {
      results.innerHTML = "";
      search.blur();
    }
  });
  // Buttons with data-confirm ask before their form is sent.
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    if (btn && btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) ev.preventDefault();
  }, true);
})();
