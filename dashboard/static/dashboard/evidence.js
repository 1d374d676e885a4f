// Evidence forms (issue 14): words selected in a paragraph of the source become the quote,
// and that paragraph is ticked. Without JavaScript the editor ticks a paragraph or pastes.
document.addEventListener("mouseup", function () {
  var selection = window.getSelection();
  if (!selection || selection.isCollapsed) return;
  var node = selection.anchorNode && selection.anchorNode.parentElement;
  var item = node && node.closest(".paragraph-picks li");
  if (!item) return;
  var form = item.closest("form");
  var quote = form && form.querySelector("textarea[name$='evidence_quote']");
  if (!quote) return;
  quote.value = selection.toString().trim();
  var radio = item.querySelector("input[type=radio]");
  if (radio) radio.checked = true;
});
