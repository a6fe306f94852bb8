// The initiatives board of a plan: drag a card to another column to move the initiative
// there. The drop posts the card's own Move form (its CSRF token, its state select) and, on
// success, moves the card and updates the counts; without script, or from the keyboard, the
// same form's select and Move button do it with a page load. Event delegation on the
// document, so a board that htmx brings in later works too.
(function () {
  "use strict";
  var dragged = null;

  function live(el) { return el && el.closest && el.closest(".board.board-live"); }
  function column(el) { return el && el.closest && el.closest(".board-col"); }

  function say(board, text) {
    var box = board.parentNode.querySelector(".board-status");
    if (!box) {
      box = document.createElement("p");
      box.className = "board-status small";
      box.setAttribute("role", "status");
      board.parentNode.insertBefore(box, board.nextSibling);
    }
    box.textContent = text;
  }

  function recount(board) {
    board.querySelectorAll(".board-col").forEach(function (col) {
      var n = col.querySelectorAll(".board-card").length;
      var count = col.querySelector(".board-count");
      if (count) count.textContent = String(n);
    });
  }

  function move(card, col) {
    var board = live(card);
    var form = card.querySelector("form.board-move");
    var state = col.getAttribute("data-state");
    if (!board || !form || !state) return;
    var select = form.querySelector("select[name=state]");
    if (column(card) === col) return;
    var before = select.value;
    select.value = state;
    card.classList.add("board-moving");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    }).then(function (resp) {
      return resp.json().then(function (data) { return { ok: resp.ok, data: data }; });
    }).then(function (r) {
      card.classList.remove("board-moving");
      if (!r.ok) {
        select.value = before;
        say(board, "Not moved: " + (r.data.error || "the server refused"));
        return;
      }
      col.appendChild(card);
      recount(board);
      say(board, r.data.message);
    }).catch(function () {
      card.classList.remove("board-moving");
      select.value = before;
      say(board, "Not moved: the server could not be reached.");
    });
  }

  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".board-card[draggable=true]");
    if (!card || !live(card)) return;
    dragged = card;
    card.classList.add("board-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.getAttribute("data-initiative") || "");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("board-dragging");
    document.querySelectorAll(".board-col.board-over").forEach(function (c) {
      c.classList.remove("board-over");
    });
    dragged = null;
  });
  document.addEventListener("dragover", function (e) {
    var col = column(e.target);
    if (!dragged || !col || live(col) !== live(dragged)) return;
    e.preventDefault();  // a drop target
    e.dataTransfer.dropEffect = "move";
    col.classList.add("board-over");
  });
  document.addEventListener("dragleave", function (e) {
    var col = column(e.target);
    if (col && !col.contains(e.relatedTarget)) col.classList.remove("board-over");
  });
  document.addEventListener("drop", function (e) {
    var col = column(e.target);
    if (!dragged || !col || live(col) !== live(dragged)) return;
    e.preventDefault();
    col.classList.remove("board-over");
    move(dragged, col);
  });
})();
