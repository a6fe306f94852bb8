// The relationship map: draws the JSON of /records/<id>/map.json with cytoscape.js.
// Pan and zoom are cytoscape's own; a click opens a record (keyboard: the node list);
// the type checkboxes filter the drawn graph at once; found paths are highlighted; the
// "Plan stakeholders" box marks the stakeholders of the account's plan (role, stance, warmth).
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || typeof window.cytoscape !== "function") return;
  var status = document.getElementById("map-status");
  var colours = { person: "#2f5bd3", organization: "#1d7a46" };
  // the bands of the plan's stakeholder grid (kith.css --strong .. --cold)
  var bands = { strong: "#1d7a46", good: "#3f8f3a", fair: "#a98600", weak: "#c0620b", cold: "#7a8594" };

  function say(text) { if (status) status.textContent = text; }

  // Labels never overlap: the centre's, the path's and the stakeholders' first, then by depth;
  // a label that would cover one already drawn is left out (hovering its node shows it, and
  // the list under the map names every node). Font sizes are in the map's own units, so what
  // overlaps does not depend on the zoom.
  function rank(n) {
    if (n.hasClass("center")) return 0;
    if (n.hasClass("on-path")) return 1;
    if (n.hasClass("stakeholder")) return 2;
    return 3 + (n.data("depth") || 0);
  }
  function declutter(cy) {
    var nodes = cy.nodes().filter(function (n) { return n.visible(); });
    cy.nodes().removeClass("nolabel");
    var order = nodes.toArray().sort(function (a, b) { return rank(a) - rank(b); });
    var kept = [];
    order.forEach(function (n) {
      var b = n.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true });
      if (!b || b.w === 0) return;
      var hit = kept.some(function (k) {
        return b.x1 < k.x2 && k.x1 < b.x2 && b.y1 < k.y2 && k.y1 < b.y2;
      });
      if (hit) n.addClass("nolabel"); else kept.push(b);
    });
  }

  function elements(data) {
    var out = [];
    data.nodes.forEach(function (n) {
      out.push({
        group: "nodes",
        data: { id: n.id, label: n.name, type: n.type, url: n.url, depth: n.depth,
                colour: colours[n.type] || "#7a4fb3" },
        classes: (n.id === data.center.id ? "center" : "") + (n.off_map ? " off-map" : "")
      });
    });
    var have = {};
    data.edges.forEach(function (e) {
      var key = e.source < e.target ? e.source + "|" + e.target : e.target + "|" + e.source;
      have[key] = true;
      out.push({
        group: "edges",
        data: { id: "e:" + key, source: e.source, target: e.target, label: e.label,
                types: e.types, width: 1 + e.strength / 25 }
      });
    });
    // hops of found paths that the ego map does not hold (beyond its depth)
    data.paths.forEach(function (p) {
      for (var i = 0; i + 1 < p.nodes.length; i++) {
        var a = p.nodes[i], b = p.nodes[i + 1];
        var key = a < b ? a + "|" + b : b + "|" + a;
        if (!have[key]) {
          have[key] = true;
          out.push({ group: "edges", data: { id: "e:" + key, source: a, target: b, label: "",
                                             types: [], width: 2 }, classes: "off-map" });
        }
      }
    });
    return out;
  }

  function draw(data) {
    var cy = window.cytoscape({
      container: box,
      elements: elements(data),
      wheelSensitivity: 0.3,
      minZoom: 0.1,
      maxZoom: 4,
      style: [
        { selector: "node", style: { "background-color": "data(colour)", label: "data(label)",
          "font-size": 9, color: "#1d2430", "text-valign": "bottom", "text-margin-y": 3,
          width: 14, height: 14, "text-wrap": "ellipsis", "text-max-width": "90px",
          "text-background-color": "#ffffff", "text-background-opacity": 0.85,
          "text-background-padding": "1px", "min-zoomed-font-size": 7 } },
        { selector: "node.center", style: { width: 26, height: 26, "font-weight": "bold",
          "border-width": 3, "border-color": "#18213a" } },
        { selector: "node.off-map", style: { "background-color": "#a98600" } },
        { selector: "edge", style: { width: "data(width)", "line-color": "#b9c2cd",
          "curve-style": "haystack", opacity: 0.8 } },
        { selector: "node.nolabel", style: { label: "" } },
        { selector: "node.hover", style: { label: "data(label)", "z-index": 20 } },
        { selector: ".faded", style: { opacity: 0.15 } },
        { selector: ".hidden", style: { display: "none" } },
        { selector: "node.stakeholder", style: { "background-color": "data(bandColour)",
          "border-width": 3, "border-color": "#18213a", "border-style": "double",
          label: "data(stakeLabel)", width: 20, height: 20, "font-weight": "bold" } },
        { selector: "node.on-path", style: { "background-color": "#b3261e", width: 20, height: 20,
          "font-weight": "bold", "z-index": 10 } },
        { selector: "edge.on-path", style: { "line-color": "#b3261e", width: 4, opacity: 1,
          "curve-style": "bezier", "z-index": 10 } }
      ],
      layout: { name: "concentric", concentric: function (n) { return 10 - Math.min(n.data("depth"), 9); },
                levelWidth: function () { return 1; }, minNodeSpacing: 12, animate: false }
    });
    cy.on("mouseover", "node", function (ev) { ev.target.addClass("hover"); });
    cy.on("mouseout", "node", function (ev) { ev.target.removeClass("hover"); });
    cy.on("tap", "node", function (ev) {
      var url = ev.target.data("url");
      if (url) window.location.assign(url);
    });
    cy.on("mouseover", "node", function () { box.classList.add("pointing"); });
    cy.on("mouseout", "node", function () { box.classList.remove("pointing"); });
    highlight(cy, data.paths);
    declutter(cy);  // no two labels overlap (the centre's and the path's are kept first)
    window.kithMap = cy; // for the browser journeys and the console
    box.dataset.ready = "true";
    return cy;
  }

  function highlight(cy, paths) {
    var count = 0;
    paths.forEach(function (p) {
      for (var i = 0; i < p.nodes.length; i++) {
        cy.getElementById(p.nodes[i]).addClass("on-path");
        if (i + 1 < p.nodes.length) {
          var a = p.nodes[i], b = p.nodes[i + 1];
          var key = a < b ? a + "|" + b : b + "|" + a;
          cy.getElementById("e:" + key).addClass("on-path");
        }
      }
      count += 1;
    });
    if (count) {
      cy.elements().not(".on-path").addClass("faded");
    }
    box.dataset.paths = String(count);
  }

  // Show only ties of the checked types, and the records they still reach from the centre.
  function filter(cy, center) {
    var boxes = document.querySelectorAll("#map-filters input[name=types]");
    if (!boxes.length) return;
    var wanted = {};
    boxes.forEach(function (b) { if (b.checked) wanted[b.value] = true; });
    cy.edges().forEach(function (e) {
      var types = e.data("types") || [];
      var keep = !types.length || types.some(function (t) { return wanted[t]; });
      e.toggleClass("hidden", !keep);
    });
    var seen = {};
    var todo = [center];
    seen[center] = true;
    while (todo.length) {
      var node = cy.getElementById(todo.pop());
      node.connectedEdges().not(".hidden").forEach(function (e) {
        var other = e.source().id() === node.id() ? e.target().id() : e.source().id();
        if (!seen[other]) { seen[other] = true; todo.push(other); }
      });
    }
    cy.nodes().forEach(function (n) { n.toggleClass("hidden", !seen[n.id()] && !n.hasClass("on-path")); });
    declutter(cy);
    var shown = cy.nodes().not(".hidden").length;
    say(shown + " records shown; click a record to open it.");
  }

  // Mark (or unmark) the plan's stakeholders on the map and show (or hide) their list.
  function overlay(cy, data, on) {
    var list = document.getElementById("stakeholder-list");
    if (list) list.hidden = !on;
    var marked = 0;
    ((data.overlay || {}).stakeholders || []).forEach(function (s) {
      var node = cy.getElementById(s.id);
      if (!node.length) return;
      if (on) {
        node.data("bandColour", bands[s.band] || bands.cold);
        node.data("stakeLabel", node.data("label") + " (" + s.role_label + ", " + s.stance + ", " + s.band + ")");
        node.addClass("stakeholder");
        marked += 1;
      } else {
        node.removeClass("stakeholder");
      }
    });
    declutter(cy);
    box.dataset.stakeholders = String(marked);
    var url = new URL(window.location.href);
    if (on) url.searchParams.set("stakeholders", "1"); else url.searchParams.delete("stakeholders");
    window.history.replaceState(null, "", url.toString());
  }

  fetch(box.dataset.src, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    })
    .then(function (res) {
      if (!res.ok) {
        var errs = res.body.errors || {};
        say("The map could not be drawn: " + (res.body.error || Object.values(errs).join(" ") || "error"));
        return;
      }
      var cy = draw(res.body);
      filter(cy, res.body.center.id);
      var stake = document.getElementById("map-stakeholders");
      if (stake && res.body.overlay) overlay(cy, res.body, stake.checked);
      var form = document.getElementById("map-filters");
      if (form) {
        form.addEventListener("change", function (ev) {
          if (ev.target && ev.target.name === "types") filter(cy, res.body.center.id);
          if (ev.target && ev.target.name === "stakeholders") overlay(cy, res.body, ev.target.checked);
        });
      }
    })
    .catch(function () { say("The map could not be loaded; the records are listed beside it."); });
})();
