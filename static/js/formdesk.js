// Progressive enhancement only: every page works without JavaScript.
// - show_if: mirrors forms/conditions.py so fields appear as answers change
// - the error summary takes focus; textarea character counters; no double submit
(function () {
  "use strict";

  // The answer as the server stores it (forms/field_types), so that conditions compare the
  // same values on both sides (forms/conditions.py). How to read it is written on the page
  // by the question's field type (data-value-type), never guessed here: `list` (every ticked
  // box), `one` (the ticked radio), `yesno` (a ticked yes or no as true or false), `checked`
  // (a box ticked or not), `text` (the input's value, as typed or chosen).
  function answerOf(form, name, valueType) {
    var inputs = Array.prototype.slice.call(form.querySelectorAll('[name="' + name + '"]'));
    if (!inputs.length) { return null; }
    var ticked = inputs.filter(function (i) { return i.checked; })
      .map(function (i) { return i.value; });
    if (valueType === "list") { return ticked; }
    if (valueType === "checked") { return ticked.length ? true : null; }
    var value = valueType === "one" || valueType === "yesno" ? (ticked[0] || "") : inputs[0].value;
    if (value === "") { return null; }
    if (valueType === "yesno") { return value === "yes" ? true : value === "no" ? false : null; }
    return value;
  }

  function matches(answer, expected) {
    if (Array.isArray(answer)) {
      return answer.some(function (a) { return expected.indexOf(a) !== -1; });
    }
    return answer !== null && answer !== undefined && expected.indexOf(answer) !== -1;
  }

  function holds(condition, lookup) {
    return Object.keys(condition).every(function (key) {
      if (key === "any") {
        return condition.any.some(function (alt) { return holds(alt, lookup); });
      }
      var found = lookup(key);
      return found.shown && matches(found.value, condition[key]);
    });
  }

  function own(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }

  // `stored`: the answers shown on earlier pages (the server leaves out hidden ones).
  function refresh(form, stored) {
    var state = Object.create(null);
    function lookup(scope) {
      return function (name) {
        if (scope && state[scope + name]) { return state[scope + name]; }
        if (state[name]) { return state[name]; }
        return { shown: own(stored, name), value: own(stored, name) ? stored[name] : null };
      };
    }
    form.querySelectorAll("[data-show-if], .form-group").forEach(function (box) {
      var input = box.querySelector("input, select, textarea");
      var name = input ? input.name : null;
      var scope = name && /-\d+-/.test(name) ? name.replace(/[^-]+$/, "") : "";
      var shown = true;
      if (box.dataset.showIf) {
        shown = holds(JSON.parse(box.dataset.showIf), lookup(scope));
        box.hidden = !shown;
      }
      if (name && box.dataset.valueType !== "items") {
        var entry = { shown: shown, value: answerOf(form, name, box.dataset.valueType) };
        state[name] = entry;
        var plain = name.replace(/^.*-\d+-/, "");
        state[plain] = state[plain] || entry;
      }
    });
  }

  // GOV.UK's character count: the visible message follows every keystroke; screen readers
  // hear it from a polite live region once typing pauses, not after every character.
  function startCounter(counter) {
    var field = document.getElementById(counter.dataset.counterFor);
    var max = field ? parseInt(field.dataset.maxlength || "0", 10) : 0;
    if (!max) { return; }
    var language = document.documentElement.lang || "en";
    var plural = new Intl.PluralRules(language);
    var group = counter.dataset.group || ",";
    function number(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, group); }
    var remaining = JSON.parse(counter.dataset.remaining);
    var tooMany = JSON.parse(counter.dataset.tooMany);
    var live = document.createElement("div");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    counter.parentNode.insertBefore(live, counter.nextSibling);
    counter.setAttribute("aria-hidden", "true");
    var timer = null;
    field.addEventListener("input", function () {
      // Counted as the server counts (forms/validators.py): characters, a line break one.
      var left = max - Array.from(field.value.replace(/\r\n/g, "\n")).length;
      var forms = left < 0 ? tooMany : remaining;
      var count = Math.abs(left);
      var text = (forms[plural.select(count)] || forms.other).replace("{count}", number(count));
      counter.textContent = text;
      counter.classList.toggle("error-message", left < 0);
      clearTimeout(timer);
      timer = setTimeout(function () { live.textContent = text; }, 1000);
    });
  }

  // After "Add another" the page opens at the new item (#group-N): its first question takes
  // the focus, so keyboard and screen reader users continue there. On `load`: the browser
  // moves the focus to the anchor's target after DOMContentLoaded, which would undo it.
  window.addEventListener("load", focusAddedItem);
  function focusAddedItem() {
    var match = /^#([a-z][a-z0-9_]*-\d+)$/.exec(window.location.hash);
    var item = match && document.getElementById(match[1]);
    if (!item || !item.classList.contains("group-item")) { return; }
    var first = item.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-autofocus]");
    if (summary) { summary.focus(); }

    document.querySelectorAll("form[data-answers]").forEach(function (form) {
      var stored = JSON.parse(form.dataset.answers || "{}");
      refresh(form, stored);
      form.addEventListener("change", function () { refresh(form, stored); });
      form.addEventListener("input", function () { refresh(form, stored); });
    });

    document.querySelectorAll("[data-counter-for]").forEach(startCounter);

    document.querySelectorAll("[data-prevent-double-click]").forEach(function (button) {
      button.form.addEventListener("submit", function () {
        setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });
})();
