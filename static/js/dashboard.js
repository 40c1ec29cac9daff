/* The staff list: a "select all" box for the rows of the page (without script each row's
   box still works; this one is only shown when it can work). */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      var form = all.form;
      var rows = form.querySelectorAll("input[name='" + all.dataset.selectAll + "']");
      function reflect() {
        var checked = Array.prototype.filter.call(rows, function (row) { return row.checked; });
        all.checked = checked.length === rows.length;
        all.indeterminate = checked.length > 0 && checked.length < rows.length;
      }
      all.addEventListener("change", function () {
        rows.forEach(function (row) { row.checked = all.checked; });
      });
      rows.forEach(function (row) { row.addEventListener("change", reflect); });
      reflect();
      all.closest("[hidden]") && (all.closest("[hidden]").hidden = false);
    });
  });
})();
