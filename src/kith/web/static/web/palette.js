// Kith's keyboard: a command palette (Ctrl/Cmd-K: go to any record through the search API, or
// run an action), "g p" / "g o" / "g h" / "g t" navigation, "n" for new, "?" lists the
// shortcuts. Nothing inline (the Content-Security-Policy forbids it): the palette and the
// shortcut list are <dialog> elements of base.html, filled here with DOM calls only.
(function () {
  "use strict";
  var SEARCH_MAX = 300;
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function $(id) { return document.getElementById(id); }
  function actions() {
    // {label, href} from the page's own list (a <template>, so not part of the page itself):
    // the server decides which actions this user may run on this page.
    var out = [];
    var tpl = document.getElementById("palette-actions");
    var list = tpl ? tpl.content.querySelectorAll("a") : [];
    for (var i = 0; i < list.length; i++) out.push({ label: list[i].textContent.trim(), href: list[i].getAttribute("href"), kind: "action" });
    return out;
  }
  var timer = null, seq = 0, items = [], active = 0;

  function render() {
    var box = $("palette-results");
    box.textContent = "";
    items.forEach(function (item, i) {
      var a = document.createElement("a");
      a.href = item.href;
      a.id = "palette-item-" + i;
      a.setAttribute("role", "option");
      a.className = "palette-item" + (i === active ? " active" : "");
      a.setAttribute("aria-selected", i === active ? "true" : "false");
      var label = document.createElement("span");
      label.textContent = item.label;
      a.appendChild(label);
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = item.kind;
      a.appendChild(tag);
      box.appendChild(a);
    });
    if (!items.length) {
      var p = document.createElement("p");
      p.className = "muted small palette-none";
      p.textContent = $("palette-input").value.trim() ? "Nothing matches." : "Type to find a record or an action.";
      box.appendChild(p);
    }
    var input = $("palette-input");
    if (items.length) input.setAttribute("aria-activedescendant", "palette-item-" + active);
    else input.removeAttribute("aria-activedescendant");
  }

  function update() {
    var text = $("palette-input").value.trim();
    var lower = text.toLowerCase();
    var acts = actions().filter(function (a) { return !lower || a.label.toLowerCase().indexOf(lower) >= 0; });
    items = acts.slice(0, 6);
    active = 0;
    render();
    if (text.length < 2) return;
    if (text.length > SEARCH_MAX) {
      items = [];
      render();
      $("palette-results").firstChild.textContent = "Search: longer than " + SEARCH_MAX + " characters.";
      return;
    }
    var mine = ++seq;
    clearTimeout(timer);
    timer = setTimeout(function () {
      var url = $("palette").dataset.search + "?limit=8&q=" + encodeURIComponent(text);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (found) {
          if (mine !== seq) return;
          var base = $("palette").dataset.record;
          var recs = (Array.isArray(found) ? found : []).map(function (r) {
            return { label: r.name, href: base.replace("__id__", encodeURIComponent(r.id)), kind: r.type === "organization" ? "organisation" : r.type };
          });
          items = recs.concat(acts).slice(0, 12);
          active = 0;
          render();
        })
        .catch(function () {});
    }, 150);
  }

  function open() {
    var dlg = $("palette");
    if (!dlg || dlg.open) return;
    $("palette-input").value = "";
    dlg.showModal();
    $("palette-input").focus();
    update();
  }
  function go(href) { if (href) window.location.assign(href); }

  var pending = "";
  var NAV = { p: "people", o: "orgs", h: "home", t: "tasks" };
  document.addEventListener("keydown", function (ev) {
    var dlg = $("palette");
    if (!dlg) return;
    if ((ev.ctrlKey || ev.metaKey) && (ev.key === "k" || ev.key === "K")) {
      ev.preventDefault();
      if (dlg.open) dlg.close(); else open();
      return;
    }
    if (dlg.open && document.activeElement === $("palette-input")) {
      if (ev.key === "Escape") {  // a search box would take the first Escape to clear itself
        ev.preventDefault();
        dlg.close();
      } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        if (!items.length) return;
        active = (active + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        render();
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        if (items[active]) go(items[active].href);
      }
      return;
    }
    if (typing(document.activeElement) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if ($("shortcuts") && $("shortcuts").open) return;
    if (pending === "g") {
      pending = "";
      var target = NAV[ev.key];
      if (target) { ev.preventDefault(); go(dlg.dataset[target]); }
      return;
    }
    if (ev.key === "g") { pending = "g"; setTimeout(function () { pending = ""; }, 1500); return; }
    if (ev.key === "?") { ev.preventDefault(); $("shortcuts").showModal(); return; }
    if (ev.key === "n") {
      var make = document.querySelector("[data-new]") || Array.prototype.filter.call(
        document.querySelectorAll("main a.button, main a.primary"),
        function (a) { return /^\s*(\+\s*)?new\b/i.test(a.textContent); })[0];
      if (make) { ev.preventDefault(); go(make.getAttribute("href")); }
    }
  });
  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.id === "palette-input") update();
  });
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) return;
    if (t.id === "palette" || t.id === "shortcuts") { t.close(); return; } // the backdrop
    if (t.closest("[data-open-palette]")) { ev.preventDefault(); open(); return; }
    if (t.closest("[data-open-shortcuts]")) { ev.preventDefault(); $("shortcuts").showModal(); return; }
    if (t.closest("[data-close]")) { t.closest("dialog").close(); return; }
    var copy = t.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.dataset.copy).then(function () {
        copy.classList.add("copied");
        copy.textContent = "Copied " + copy.dataset.copy;
      }, function () { copy.textContent = copy.dataset.copy; });
    } else if (copy) {
      copy.textContent = copy.dataset.copy; // no clipboard (plain http): show it to select
    }
  });
})();
