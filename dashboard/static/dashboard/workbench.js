/* The workbench: a passage selected in the source's text starts a commitment draft.
 *
 * Offsets count characters (code points) of the source's archived text: every paragraph <li> holds its
 * text as one text node and says where it starts (data-start). The draft itself is rendered
 * by the server (with the parser's proposals) and appended by htmx; the due-date previews are
 * plain hx-post attributes. Without this file the page works by submitting its buttons.
 */
(function () {
  "use strict";

  var text = document.getElementById("source-text");
  var form = document.getElementById("workbench-form");
  if (!text || !form) {
    return;
  }
  var button = document.getElementById("cite-selection");
  var total = form.querySelector('input[name="c-TOTAL_FORMS"]');
  var lastSpan = null;

  // The server counts code points (Python's str); the DOM counts UTF-16 code units, in
  // which an emoji or a rare CJK character is two. Array.from splits by code point.
  function codePoints(string) {
    return Array.from(string).length;
  }

  function offsetOf(node, offset) {
    var element = node.nodeType === Node.TEXT_NODE ? node.parentNode : node;
    var item = element && element.closest ? element.closest("li[data-start]") : null;
    if (!item || !text.contains(item)) {
      return null;
    }
    if (node.nodeType === Node.TEXT_NODE) {
      offset = codePoints(node.data.slice(0, offset));
    } else {
      // A boundary set on the paragraph itself: before or after its only text node.
      offset = offset > 0 ? codePoints(item.textContent) : 0;
    }
    return parseInt(item.dataset.start, 10) + offset;
  }

  function selectedSpan() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) {
      return null;
    }
    var range = selection.getRangeAt(0);
    var start = offsetOf(range.startContainer, range.startOffset);
    var end = offsetOf(range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) {
      return null;
    }
    return { start: start, end: end };
  }

  document.addEventListener("selectionchange", function () {
    var span = selectedSpan();
    if (span) {
      lastSpan = span;
    }
    button.hidden = span === null && lastSpan === null;
  });

  button.addEventListener("click", function () {
    var span = selectedSpan() || lastSpan;
    if (!span) {
      return;
    }
    var params = new URLSearchParams();
    params.set("start", span.start);
    params.set("end", span.end);
    params.set("index", total.value);
    form.querySelectorAll('.carry input, input[name="agreement"], input[name="a-date"]').forEach(
      function (input) {
        params.append(input.name, input.value);
      }
    );
    form.querySelectorAll('input[name$="-key"]').forEach(function (input) {
      if (input.value) {
        params.append("taken", input.value);
      }
    });
    button.disabled = true;
    htmx
      .ajax("GET", button.dataset.url + "?" + params.toString(), {
        target: "#drafts",
        swap: "beforeend",
      })
      .then(function () {
        total.value = String(parseInt(total.value, 10) + 1);
        var drafts = document.querySelectorAll("#drafts .draft");
        var draft = drafts[drafts.length - 1];
        if (draft) {
          var title = draft.querySelector('input[name$="-title"]');
          draft.scrollIntoView({ block: "start" });
          if (title) {
            title.focus({ preventScroll: true });
          }
        }
        window.getSelection().removeAllRanges();
        lastSpan = null;
        button.hidden = true;
      })
      .finally(function () {
        button.disabled = false;
      });
  });

  // Only the chosen rule's fields are shown.
  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.name && /-deadline_kind$/.test(target.name)) {
      var draft = target.closest(".draft");
      draft.querySelectorAll("[data-kind]").forEach(function (group) {
        group.hidden = group.dataset.kind !== target.value;
      });
    }
  });

  // A key the editor has not typed follows the title: retitling a draft empties its
  // suggested key, and the server makes the key from the final title when it saves.
  form.addEventListener("input", function (event) {
    var target = event.target;
    if (!target.name) {
      return;
    }
    var draft = target.closest(".draft");
    if (!draft) {
      return;
    }
    var key = draft.querySelector('input[name$="-key"]');
    if (target === key) {
      key.dataset.typed = "1";
    } else if (/-title$/.test(target.name) && key && !key.dataset.typed) {
      key.value = "";
      key.placeholder = key.dataset.fromTitle || "";
    }
  });

  // A quote edited by hand is looked up in the text again when saved.
  form.addEventListener("input", function (event) {
    var target = event.target;
    if (target.name && /-quote$/.test(target.name)) {
      var draft = target.closest(".draft");
      draft.querySelectorAll('input[name$="-start"], input[name$="-end"]').forEach(
        function (input) {
          input.value = "";
        }
      );
    }
  });
})();
