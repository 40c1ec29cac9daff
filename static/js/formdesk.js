// Progressive enhancement only: every page works without JavaScript.
// - show_if: mirrors forms/conditions.py so fields appear as answers change
// - the error summary takes focus; textarea character counters; no double submit
(function () {
  "use strict";

  function answerOf(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    if (!inputs.length) { return undefined; }
    var first = inputs[0];
    if (first.type === "radio") {
      var checked = form.querySelector('[name="' + name + '"]:checked');
      if (!checked) { return null; }
      return checked.value === "yes" ? true : checked.value === "no" ? false : checked.value;
    }
    if (first.type === "checkbox") {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; })
        .map(function (i) { return i.value; });
    }
    if (first.tagName === "SELECT" && first.multiple) {
      return Array.prototype.map.call(first.selectedOptions, function (o) { return o.value; });
    }
    return first.value === "" ? null : first.value;
  }

  function matches(answer, expected) {
    if (Array.isArray(answer)) {
      return answer.some(function (a) { return expected.indexOf(a) !== -1; });
    }
    if (answer === null || answer === undefined) { return false; }
    return expected.some(function (e) { return e === answer || String(e) === String(answer); });
  }

  function holds(condition, lookup) {
    return Object.keys(condition).every(function (key) {
      if (key === "any") {
        return condition.any.some(function (alt) { return holds(alt, lookup); });
      }
      return lookup(key).shown && matches(lookup(key).value, condition[key]);
    });
  }

  function refresh(form, stored) {
    var state = {};
    function lookup(scope) {
      return function (name) {
        var scoped = scope ? scope + name : null;
        if (scoped && state[scoped]) { return state[scoped]; }
        if (state[name]) { return state[name]; }
        return { shown: name in stored, value: stored[name] };
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
      if (name && !box.querySelector(".group")) {
        var value = answerOf(form, name);
        var entry = { shown: shown, value: value };
        state[name] = entry;
        state[name.replace(/^.*-\d+-/, "")] = state[name.replace(/^.*-\d+-/, "")] || entry;
      }
    });
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

    document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
      var field = document.getElementById(counter.dataset.counterFor);
      var max = parseInt(field.dataset.maxlength || "0", 10);
      if (!field || !max) { return; }
      var template = counter.textContent;
      function update() {
        var left = max - field.value.length;
        counter.textContent = template.replace(/\d+/, String(left >= 0 ? left : 0)) +
          (left < 0 ? " (" + (-left) + " \u2191)" : "");
      }
      field.addEventListener("input", update);
    });

    document.querySelectorAll("[data-prevent-double-click]").forEach(function (button) {
      button.form.addEventListener("submit", function () {
        setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });
})();
