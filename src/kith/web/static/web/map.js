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
          width: 14, height: 14 } },
        { selector: "node.center", style: { width: 26, height: 26, "font-weight": "bold",
          "border-width": 3, "border-color": "#18213a" } },
        { selector: "node.off-map", style: { "background-color": "#a98600" } },
        { selector: "edge", style: { width: "data(width)", "line-color": "#b9c2cd",
          "curve-style": "haystack", opacity: 0.8 } },
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
    cy.on("tap", "node", function (ev) {
      var url = ev.target.data("url");
      if (url) window.location.assign(url);
    });
    cy.on("mouseover", "node", function () { box.classList.add("pointing"); });
    cy.on("mouseout", "node", function () { box.classList.remove("pointing"); });
    highlight(cy, data.paths);
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
