/* Guide console: the live group's state kept fresh (phones connected now, the cue in
   progress), cues fired, paused, resumed and stopped without leaving the page, and a
   now-playing line that counts down to the phones' start ("3… 2… 1"), then shows
   elapsed and remaining time, then "finished". Every form also works without this
   script (the server answers with the console again). */
(function () {
  "use strict";

  var root = document.querySelector("[data-ag-guide]");
  if (!root) return;
  var d = root.dataset;

  // The code and QR fill the screen on demand, for the visitors to scan.
  var dialog = root.querySelector(".ag-code-dialog");
  var showCode = root.querySelector(".ag-show-code");
  if (dialog && showCode) {
    showCode.addEventListener("click", function () {
      if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
    });
  }
  if (!d.statusUrl) return;

  var np = root.querySelector(".ag-np");
  var npTitle = np.querySelector(".ag-np-title");
  var npState = np.querySelector(".ag-np-state");
  var npBar = np.querySelector(".ag-np-bar");
  var npError = np.querySelector(".ag-np-error");
  var pauseButton = np.querySelector(".ag-pause");
  var resumeButton = np.querySelector(".ag-resume");
  var stopButton = np.querySelector(".ag-stop");
  var nextForm = root.querySelector("form.ag-next");
  var nextNone = root.querySelector(".ag-next-none");
  var sayStatus = root.querySelector(".ag-say-status");

  // What the console shows, for people and for tests (window.agGuide).
  var state = window.agGuide = { offset: 0, cue: null, duration: null, shown: "idle" };
  var probe = new Audio();
  probe.preload = "metadata";
  probe.addEventListener("loadedmetadata", function () {
    if (isFinite(probe.duration)) state.duration = probe.duration * 1000;
    render();
  });

  function serverNow() { return Date.now() + state.offset; }
  function when(value) {
    if (value === null || value === undefined) return null;
    return typeof value === "number" ? value : Date.parse(value);
  }
  function clock(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // NTP style, once: the phones start on the server's clock, and so does the countdown.
  (function sync() {
    var t0 = Date.now();
    fetch(d.timeUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) { state.offset = body.now - (t0 + Date.now()) / 2; render(); })
      .catch(function () {});
  })();

  function setCue(last, title, src) {
    if (!last) { state.cue = null; render(); return; }
    var cue = {
      event: last.event, station: last.station, cue: last.cue, title: title || "",
      start_at: when(last.start_at), paused_at: when(last.paused_at),
      stopped_at: when(last.stopped_at), src: src || ""
    };
    if (!state.cue || state.cue.src !== cue.src) {
      state.duration = null;
      if (cue.src) { probe.src = cue.src; probe.load(); }
    }
    state.cue = cue;
    render();
  }

  function show(kind, text) {
    state.shown = kind;
    np.dataset.state = kind;
    if (npState.textContent !== text) npState.textContent = text;
  }

  function render() {
    var cue = state.cue;
    pauseButton.hidden = resumeButton.hidden = stopButton.hidden = true;
    npBar.hidden = true;
    if (!cue) { npTitle.textContent = ""; show("idle", d.labelIdle); return; }
    npTitle.textContent = cue.title;
    var now = serverNow();
    var total = state.duration;
    if (cue.stopped_at) { show("stopped", d.labelStopped); return; }
    var position = (cue.paused_at || now) - cue.start_at;
    if (total !== null && position >= total) { show("finished", d.labelFinished); return; }
    stopButton.hidden = false;
    if (cue.paused_at) {
      resumeButton.hidden = false;
      show("paused", d.labelPaused + " · " + clock(position) + (total ? " / " + clock(total) : ""));
      return;
    }
    pauseButton.hidden = false;
    if (position < 0) {
      show("countdown", d.labelCountdown + " " + Math.ceil(-position / 1000) + "…");
      return;
    }
    var text = d.labelPlaying + " · " + clock(position);
    if (total) {
      text += " / " + clock(total) + " · " + clock(total - position) + " " + d.labelRemaining;
      npBar.hidden = false;
      npBar.value = Math.min(1, position / total);
    }
    show("playing", text);
  }

  function counts(status) {
    root.querySelector(".ag-total").textContent = String(status.total);
    var list = root.querySelector(".ag-counts");
    list.textContent = "";
    Object.keys(status.members).forEach(function (lang) {
      var li = document.createElement("li");
      li.dataset.lang = lang;
      li.textContent = lang.toUpperCase() + ": ";
      var n = document.createElement("span");
      n.className = "ag-count";
      n.textContent = String(status.members[lang]);
      li.appendChild(n);
      list.appendChild(li);
    });
  }

  function take(status) {
    counts(status);
    setCue(status.last_cue, status.title, status.src);
  }

  function refresh() {
    fetch(d.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) { if (status) take(status); })
      .catch(function () { /* try again at the next tick */ });
  }

  function post(form, extra) {
    var body = new URLSearchParams(new FormData(form));
    if (extra) Object.keys(extra).forEach(function (k) { body.set(k, extra[k]); });
    // getAttribute: a control named "action" (the pause/stop buttons) hides form.action.
    return fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": form.elements._csrf.value },
      body: body
    }).then(function (r) {
      return r.json().then(function (b) {
        if (!r.ok) throw new Error(b.detail || String(r.status));
        return b;
      });
    });
  }

  function failed(err) { npError.textContent = d.labelFailed + " " + err.message; }
  function done() { npError.textContent = ""; }

  // The cue after a fired one, in the console's order, becomes the bar's next cue.
  var fires = Array.prototype.slice.call(root.querySelectorAll("form.ag-fire:not(.ag-next)"));
  function advance(station, cueId) {
    var index = -1;
    fires.forEach(function (f, i) {
      if (f.dataset.station === station && f.dataset.cue === cueId) index = i;
    });
    var next = fires[index + 1];
    if (!next) { nextForm.hidden = true; nextNone.hidden = false; return; }
    nextForm.elements.station.value = next.dataset.station;
    nextForm.elements.cue.value = next.dataset.cue;
    nextForm.querySelector(".ag-next-title").textContent = next.dataset.title;
    nextForm.hidden = false;
    nextNone.hidden = true;
    var details = next.closest("details");
    if (details) details.open = true;
  }

  root.querySelectorAll("form.ag-fire").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      post(form).then(function (fired) {
        done();
        setCue({ event: fired.event, station: fired.station, cue: fired.cue,
                 start_at: fired.start_at }, fired.title, fired.src);
        advance(fired.station, fired.cue);
      }).catch(failed).then(function () {
        setTimeout(function () { button.disabled = false; }, 1000);
      });
    });
  });

  root.querySelectorAll("form.ag-control").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = e.submitter || form.querySelector("button");
      post(form, { action: button.value }).then(function (status) {
        done();
        take(status);
      }).catch(failed);
    });
  });

  var sayForm = root.querySelector(".ag-message-form");
  sayForm.addEventListener("submit", function (e) {
    e.preventDefault();
    post(sayForm).then(function (status) {
      sayStatus.textContent = d.labelSent + ": " + status.last_message.text;
      sayForm.elements.text.value = "";
    }).catch(function (err) { sayStatus.textContent = d.labelFailed + " " + err.message; });
  });

  try { take(JSON.parse(d.status)); } catch (err) { /* the first refresh fills it */ }
  setInterval(render, 250);
  setInterval(refresh, 3000);
})();
