// The visits plugin: the leader's live counts, the group's messages on pupils' phones,
// and print buttons. No inline script: the pages carry data attributes only.
(function () {
  "use strict";

  function leaderLive(root) {
    var source = new EventSource(root.getAttribute("data-live"));
    source.addEventListener("stats", function (e) {
      var s = JSON.parse(e.data);
      ["joined", "briefed", "finished"].forEach(function (k) {
        var el = root.querySelector('[data-count="' + k + '"]');
        if (el) el.textContent = String(s[k]);
      });
      Object.keys(s.stations || {}).forEach(function (id) {
        var el = root.querySelector('strong[data-station="' + id + '"]');
        if (el) el.textContent = String(s.stations[id]);
      });
      var teams = root.querySelector("[data-teams]");
      var names = Object.keys(s.teams || {});
      if (teams && names.length) {
        teams.textContent = "";
        names.forEach(function (t) {
          var li = document.createElement("li");
          li.textContent = t + ": " + s.teams[t];
          teams.appendChild(li);
        });
      }
    });
    var form = root.querySelector("form.visits-broadcast");
    if (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = new URLSearchParams(new FormData(form));
        fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" } })
          .then(function (r) {
            if (r.ok) {
              form.querySelector("input[name=message]").value = "";
              var sent = form.querySelector("[data-sent]");
              if (sent) sent.hidden = false;
            }
          });
      });
    }
  }

  function groupMessages(box) {
    var source = new EventSource(box.getAttribute("data-feed"));
    source.addEventListener("broadcast", function (e) {
      var data = JSON.parse(e.data);
      var p = document.createElement("p");
      p.className = "visits-message";
      p.textContent = data.message;
      box.insertBefore(p, box.firstChild);
      if (navigator.vibrate) navigator.vibrate(200);
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) source.close();
    };
  }

  document.querySelectorAll("[data-live]").forEach(leaderLive);
  document.querySelectorAll(".visits-messages[data-feed]").forEach(groupMessages);
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
})();
