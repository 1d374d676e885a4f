// Show only the chosen kind of deadline rule's fields (issue 14): the rule-kind select carries
// which parameter fields each kind reads (data-rule-groups, data-rule-fields, written by
// CommitmentAdminForm). Without JavaScript every field stays shown. A row holding an error is
// never hidden.
(function () {
  "use strict";

  function scopeOf(select) {
    return select.closest(".inline-related") || select.closest("form") || document;
  }

  function apply(select) {
    var groups = JSON.parse(select.dataset.ruleGroups || "{}");
    var fields = JSON.parse(select.dataset.ruleFields || "{}");
    var shown = groups[select.value] || [];
    var scope = scopeOf(select);
    var prefix = select.name.slice(0, select.name.length - "deadline_kind".length);
    Object.keys(fields).forEach(function (name) {
      var input = scope.querySelector("[name='" + prefix + name + "']");
      if (!input) return;
      var row = input.closest(".form-row") || input.closest("td");
      if (!row) return;
      var box = input.closest(".fieldBox") || row;
      var hide = shown.indexOf(fields[name]) === -1 && !row.classList.contains("errors") &&
        !box.classList.contains("errors");
      box.hidden = hide;
      box.classList.toggle("rule-field-hidden", hide);
      if (box !== row) {
        var boxes = row.querySelectorAll(".fieldBox");
        var allHidden = Array.prototype.every.call(boxes, function (b) { return b.hidden; });
        row.hidden = allHidden && !row.classList.contains("errors");
      }
    });
  }

  function applyAll(root) {
    (root || document).querySelectorAll("select[data-rule-groups]").forEach(apply);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-rule-groups]")) apply(event.target);
  });
  document.addEventListener("formset:added", function (event) { applyAll(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { applyAll(); });
  } else {
    applyAll();
  }
})();
