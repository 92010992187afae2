/* Guide console: the phone counts refresh by themselves, and a cue fires without
   leaving the page (the forms also work without this script). */
(function () {
  "use strict";

  var root = document.querySelector("[data-ag-guide]");
  if (!root) return;
  var last = root.querySelector(".ag-last");

  function refresh() {
    if (!root.dataset.statusUrl) return;
    fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) {
        if (!status) return;
        root.querySelector(".ag-total").textContent = String(status.total);
        var counts = root.querySelector(".ag-counts");
        counts.textContent = "";
        Object.keys(status.members).forEach(function (lang) {
          var li = document.createElement("li");
          li.dataset.lang = lang;
          li.textContent = lang.toUpperCase() + ": ";
          var n = document.createElement("span");
          n.className = "ag-count";
          n.textContent = String(status.members[lang]);
          li.appendChild(n);
          counts.appendChild(li);
        });
      })
      .catch(function () { /* try again at the next tick */ });
  }

  root.querySelectorAll("form.ag-fire").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": form.elements._csrf.value },
        body: new URLSearchParams(new FormData(form))
      }).then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      }).then(function (result) {
        if (!result.ok) {
          last.textContent = root.dataset.labelFailed + " " + (result.body.detail || "");
          return;
        }
        var seconds = Math.max(0, Math.round((result.body.start_at - Date.now()) / 1000));
        last.textContent = root.dataset.labelFired + ": " + result.body.title + " — " +
          root.dataset.labelStarts + " " + seconds + " s";
      }).catch(function () {
        last.textContent = root.dataset.labelFailed;
      }).then(function () {
        setTimeout(function () { button.disabled = false; }, 1000);
      });
    });
  });

  refresh();
  setInterval(refresh, 3000);
})();
