// Sortable, filterable tables of the /psp pages (no dependencies).
// Every <table class="psp-table">: click a header to sort (numbers by data-sort when present);
// an <input class="psp-filter" data-filter-for="TABLE_ID"> hides rows not containing its text.
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-sort");
    return v !== null ? v : cell.textContent.trim();
  }

  function compare(a, b) {
    var na = parseFloat(a), nb = parseFloat(b);
    var numeric = a !== "" && b !== "" && !isNaN(na) && !isNaN(nb) && /^-?[\d.]+$/.test(a) && /^-?[\d.]+$/.test(b);
    if (numeric) { return na - nb; }
    if (a === "") { return 1; }
    if (b === "") { return -1; }
    return a.localeCompare(b);
  }

  function makeSortable(table) {
    var head = table.tHead;
    if (!head || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(head.rows[0].cells, function (th, index) {
      th.classList.add("psp-sortable");
      th.setAttribute("tabindex", "0");
      th.setAttribute("aria-sort", "none");
      function sort() {
        var body = table.tBodies[0];
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.rows[0].cells, function (c) { c.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var d = compare(cellValue(r1, index), cellValue(r2, index));
          return asc ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  }

  function bindFilter(input) {
    var table = document.getElementById(input.getAttribute("data-filter-for"));
    if (!table || !table.tBodies.length) { return; }
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) === -1;
      });
    });
  }

  document.querySelectorAll("table.psp-table").forEach(makeSortable);
  document.querySelectorAll("input.psp-filter").forEach(bindFilter);
})();
