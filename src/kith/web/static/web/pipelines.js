// The pipeline board: drag a deal card onto another column to move it there. The drop
// sets the card's own move form to the column's stage and submits it (the same POST as
// the form's button, so without script the form still works).
(function () {
  "use strict";
  var board = document.querySelector(".pipeline-board");
  if (!board) return;
  var dragged = null;
  board.addEventListener("dragstart", function (e) {
    var card = e.target.closest ? e.target.closest(".deal-card") : null;
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    if (e.dataTransfer) {
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
    }
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
  });
  board.addEventListener("dragover", function (e) {
    if (dragged && e.target.closest(".board-col")) e.preventDefault();
  });
  board.addEventListener("drop", function (e) {
    var col = e.target.closest(".board-col");
    if (!dragged || !col) return;
    e.preventDefault();
    var form = dragged.querySelector("form.move-form");
    var select = form.querySelector("select[name=stage]");
    var stage = col.getAttribute("data-stage");
    if (select.value === stage) return;
    select.value = stage;
    form.submit();
  });
})();
