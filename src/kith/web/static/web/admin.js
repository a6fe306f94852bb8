// Admin pages: move focus to what changed after a swap, add field rows to the record-type form, copy a shown secret.
(function () {
  "use strict";
  // After a swap, focus the first field in error, else a shown secret or notice.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var root = ev.detail.target;
    if (!root || !root.closest("[data-admin]")) return;
    var el = root.querySelector("[aria-invalid='true'], .error[role='alert'], [data-focus]");
    if (el) el.focus();
    reveal(root);
  });

  function reveal(root) {
    root.querySelectorAll("[data-add-field-row][hidden], [data-copy][hidden]").forEach(function (b) {
      b.hidden = false;
    });
  }

  // "Add another field": copy the last field row with the next index, empty.
  function addRow(button) {
    var form = button.closest("form");
    var rows = form.querySelectorAll("[data-field-row]");
    var last = rows[rows.length - 1];
    if (!last || rows.length >= 20) return;
    var from = "f" + (rows.length - 1) + "-", to = "f" + rows.length + "-";
    var row = last.cloneNode(true);
    row.querySelectorAll("[id], [for], [name], [aria-describedby]").forEach(function (el) {
      ["id", "for", "name"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.split(from).join(to));
      });
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
      if (el.type === "checkbox") el.checked = false;
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
      else if (el.tagName === "INPUT") el.value = "";
    });
    row.querySelectorAll(".field-error").forEach(function (p) { p.remove(); });
    var legend = row.querySelector("legend");
    if (legend) legend.textContent = "Field " + (rows.length + 1);
    last.parentNode.appendChild(row);
    var first = row.querySelector("input");
    if (first) first.focus();
    if (rows.length + 1 >= 20) button.hidden = true;
  }

  function copy(button) {
    var el = document.getElementById(button.getAttribute("data-copy"));
    if (!el) return;
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(el.textContent).then(done, function () {});
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("button");
    if (!b) return;
    if (b.hasAttribute("data-add-field-row")) { ev.preventDefault(); addRow(b); }
    else if (b.hasAttribute("data-copy")) { ev.preventDefault(); copy(b); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.querySelector("[data-admin]");
    if (!section) return;
    reveal(section);
    var el = section.querySelector("[aria-invalid='true'], .admin-secret");
    if (el) el.focus();
  });
})();
