// New-call form: while the desk types, suggest knowledge-base articles for the chosen terminal
// (serial or picker) and symptom, so a known fix can be read to the merchant before a visit.
(function () {
  "use strict";
  var box = document.getElementById("kb-intake");
  if (!box) return;
  var form = box.closest("form") || document;
  var list = document.getElementById("kb-intake-list");
  var url = box.getAttribute("data-url");
  var timer = null;
  function field(name) { return form.querySelector("[name=" + name + "]"); }
  function refresh() {
    var symptom = field("symptom") ? field("symptom").value : "";
    var params = new URLSearchParams();
    if (field("terminal_id") && field("terminal_id").value) params.set("terminal_id", field("terminal_id").value);
    else if (field("terminal_serial") && field("terminal_serial").value) params.set("serial", field("terminal_serial").value);
    if (!symptom && !params.has("terminal_id") && !params.has("serial")) { box.hidden = true; return; }
    if (symptom) params.set("symptom", symptom);
    if (field("symptom_text") && field("symptom_text").value) params.set("q", field("symptom_text").value);
    params.set("lang", document.documentElement.lang || "fa");
    fetch(url + "?" + params.toString(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) {
        list.textContent = "";
        items.forEach(function (it) {
          var a = document.createElement("a");
          a.className = "list-group-item list-group-item-action";
          a.href = it.url; a.target = "_blank"; a.rel = "noopener";
          a.setAttribute("data-article", it.id);
          a.textContent = it.title;
          list.appendChild(a);
        });
        box.hidden = items.length === 0;
      })
      .catch(function () { box.hidden = true; });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 300); }
  ["symptom", "terminal_serial", "terminal_id", "symptom_text"].forEach(function (name) {
    var el = field(name);
    if (el) { el.addEventListener("change", later); el.addEventListener("input", later); }
  });
  // the picker writes terminal_id without an event: look again when a result is chosen
  var results = document.getElementById("terminal-results");
  if (results) results.addEventListener("click", later);
  refresh();
})();
