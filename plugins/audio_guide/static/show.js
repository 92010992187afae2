/* Group show on a visitor's phone. One tap joins the group and unlocks audio; then the
   page measures its clock offset to the server (NTP style: the sample with the
   shortest round trip wins), follows the group's cues over Server-Sent Events and
   starts each cue, in this phone's language, at the moment the guide set: every phone
   of the group together. A phone that comes late seeks into the cue in progress.
   A phone that reloads (already in the group) follows the group at once, but a phone
   plays sound only after a tap on the page: it offers "Tap to rejoin the cue in
   progress", and that one tap starts the cue in step with the others. The guide can
   pause, resume and stop the cue for everyone, and send a short message. */
(function () {
  "use strict";

  var root = document.querySelector("[data-ag-show]");
  if (!root || !root.dataset.code) return;

  var audio = root.querySelector(".ag-show-audio");
  var status = root.querySelector(".ag-status");
  var nowBox = root.querySelector(".ag-now");
  var nowTitle = root.querySelector(".ag-now-title");
  var tapButton = root.querySelector(".ag-tap");
  var list = root.querySelector(".ag-show-transcript");
  var form = root.querySelector(".ag-join");
  var hint = root.querySelector(".ag-hint");
  var messageBox = root.querySelector(".ag-message");
  var messageText = root.querySelector(".ag-message-text");
  var SILENCE = "/static/p/audio_guide/silence.mp3";

  // What the page did, for people (the status line) and for tests (window.agShow).
  var state = window.agShow = {
    offset: 0, rtt: null, synced: false, connected: false, ready: false,
    cue: null, started: null, seen: {}, unlocked: false, paused: false, stopped: false,
    message: null
  };
  var following = false;
  var current = null;
  var timer = null;
  var cues = [];
  var shown = -1;

  function clock() { return performance.timeOrigin + performance.now(); }
  function serverNow() { return clock() + state.offset; }
  function say(text) { status.textContent = text; }

  function sample() {
    var t0 = clock();
    return fetch(root.dataset.timeUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var t1 = clock();
        return { rtt: t1 - t0, offset: body.now - (t0 + t1) / 2 };
      });
  }

  function sync(rounds) {
    var best = null;
    var chain = Promise.resolve();
    for (var i = 0; i < rounds; i++) {
      chain = chain.then(sample).then(function (s) {
        if (best === null || s.rtt < best.rtt) best = s;
      });
    }
    return chain.then(function () {
      if (best) { state.offset = best.offset; state.rtt = best.rtt; state.synced = true; }
    }).catch(function () { /* keep the last offset */ });
  }

  function unlock() {
    // Called inside the tap: a phone lets this element play later without a tap.
    audio.src = SILENCE;
    var p = audio.play();
    if (p && p.then) {
      p.then(function () {
        if (audio.src.indexOf(SILENCE) >= 0) audio.pause();
      }).catch(function () {});
    }
  }

  function showTranscript(items, lang) {
    cues = items || [];
    shown = -1;
    list.textContent = "";
    list.setAttribute("lang", lang || "");
    cues.forEach(function (c) {
      var li = document.createElement("li");
      li.textContent = c.text;
      list.appendChild(li);
      c.li = li;
    });
  }

  function highlight() {
    var t = audio.currentTime;
    var index = -1;
    for (var i = 0; i < cues.length; i++) { if (cues[i].start <= t + 0.05) index = i; else break; }
    if (index === shown) return;
    if (shown >= 0 && cues[shown]) { cues[shown].li.classList.remove("ag-current"); cues[shown].li.removeAttribute("aria-current"); }
    shown = index;
    if (index >= 0) { cues[index].li.classList.add("ag-current"); cues[index].li.setAttribute("aria-current", "true"); }
  }

  function offerTap(inProgress) {
    // The visitor's one tap: it both allows sound and starts the cue in step.
    tapButton.textContent = inProgress ? root.dataset.labelRejoin : root.dataset.labelTap;
    tapButton.hidden = false;
    form.hidden = true;
    hint.hidden = true;
  }

  function startNow(cue) {
    if (current !== cue || cue.paused || cue.stopped) return;
    var elapsed = (serverNow() - cue.start_at) / 1000;
    if (isFinite(audio.duration) && elapsed >= audio.duration) {
      nowBox.hidden = true; // over before this phone came: wait for the next one
      tapButton.hidden = true;
      say(root.dataset.labelReady);
      return;
    }
    if (!state.unlocked) {
      offerTap(elapsed > 0);
      return;
    }
    if (elapsed > 0.04 && audio.readyState >= 1) audio.currentTime = elapsed;
    state.playCalled = { id: cue.id, at: serverNow(), elapsed: elapsed };
    audio.play().then(function () {
      tapButton.hidden = true;
    }).catch(function () {
      // The phone wants a tap (or the start was interrupted): if nothing plays, offer
      // the button, which catches up with the cue from where it is by then.
      setTimeout(function () {
        if (current === cue && audio.paused && !cue.paused && !cue.stopped) {
          offerTap((serverNow() - cue.start_at) > 0);
        }
      }, 300);
    });
  }

  function schedule(cue) {
    clearTimeout(timer);
    var wait = cue.start_at - serverNow();
    if (wait > 25) {
      timer = setTimeout(function () { schedule(cue); }, wait > 400 ? wait - 300 : wait - 4);
      return;
    }
    if (wait > 0) {
      // The last few milliseconds: spin on the clock rather than trust a timer.
      var until = clock() + wait;
      while (clock() < until) { /* wait */ }
    }
    if (audio.readyState >= 1) startNow(cue);
    else audio.addEventListener("loadedmetadata", function () { startNow(cue); }, { once: true });
  }

  function take(cue) {
    if (state.seen[cue.id]) return;
    state.seen[cue.id] = true;
    if (current && cue.start_at < current.start_at) return; // an older cue, replayed
    current = cue;
    state.cue = { id: cue.id, cue: cue.cue, start_at: cue.start_at, lang: cue.lang };
    state.started = null;
    state.paused = state.stopped = false;
    clearTimeout(timer);
    audio.pause();
    audio.preload = "auto";
    audio.src = cue.src;
    audio.load();
    nowBox.hidden = false;
    nowTitle.textContent = cue.title;
    // No timed transcript: the script's paragraphs, never highlighted.
    var lines = cue.transcript && cue.transcript.length ? cue.transcript :
      (cue.script || []).map(function (text) { return { start: Infinity, end: Infinity, text: text }; });
    showTranscript(lines, cue.lang);
    var wait = cue.start_at - serverNow();
    // Replayed cues come in a burst: let the newest win before loading it.
    timer = setTimeout(function () { schedule(cue); }, wait > 0 ? 0 : 150);
  }

  audio.addEventListener("playing", function () {
    if (!current || audio.src.indexOf(SILENCE) >= 0) return;
    var at = serverNow();
    // When this phone's file position zero was (server clock): equal on every phone
    // of the group that started together.
    state.started = {
      id: current.id, at: at, position: audio.currentTime, zero: at - audio.currentTime * 1000
    };
    tapButton.hidden = true;
    say(root.dataset.labelPlaying + ": " + current.title);
  });
  audio.addEventListener("timeupdate", highlight);
  audio.addEventListener("ended", function () { say(root.dataset.labelEnded); });

  tapButton.addEventListener("click", function () {
    state.unlocked = true;
    state.ready = true;
    tapButton.hidden = true;
    if (current) startNow(current);
    else unlock();
  });

  function control(data) {
    var cue = current;
    if (!cue || cue.id !== data.cue_event) return;
    clearTimeout(timer);
    if (data.action === "pause") {
      cue.paused = state.paused = true;
      audio.pause();
      var held = Math.max(0, (data.at - cue.start_at) / 1000);
      if (audio.readyState >= 1) audio.currentTime = held;
      tapButton.hidden = true;
      say(root.dataset.labelPaused);
    } else if (data.action === "resume") {
      cue.paused = state.paused = false;
      cue.start_at = data.start_at;
      state.cue.start_at = data.start_at;
      state.started = null;
      schedule(cue);
    } else if (data.action === "stop") {
      cue.stopped = state.stopped = true;
      audio.pause();
      nowBox.hidden = true;
      tapButton.hidden = true;
      say(root.dataset.labelStopped);
    }
  }

  function showMessage(text) {
    state.message = text;
    messageText.textContent = text;
    messageBox.hidden = false;
  }

  function read(handler) {
    return function (e) {
      try { handler(JSON.parse(e.data)); } catch (err) { /* a bad message: skip it */ }
    };
  }

  function connect() {
    if (following) return;
    following = true;
    var source = new EventSource(root.dataset.eventsUrl);
    source.addEventListener("hello", read(function (hello) {
      state.connected = true;
      if (hello.message && !state.message) showMessage(hello.message);
      if (state.ready && !current) say(root.dataset.labelReady);
    }));
    source.addEventListener("cue", read(take));
    source.addEventListener("control", read(control));
    source.addEventListener("message", read(function (m) { showMessage(m.text); }));
    source.onerror = function () {
      state.connected = false;
      say(root.dataset.labelOffline);
      // EventSource reconnects by itself, with Last-Event-ID.
    };
  }

  function join() {
    if (root.dataset.joined === "true") return Promise.resolve(true);
    var body = new URLSearchParams(new FormData(form));
    return fetch(root.dataset.joinUrl, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "X-CSRF-Token": root.dataset.csrf }
    }).then(function (r) {
      return r.type === "opaqueredirect" || r.ok;
    });
  }

  function follow() {
    return sync(5).then(function () {
      connect();
      setInterval(function () { sync(3); }, 60000);
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    state.unlocked = true;
    if (current && !current.paused && !current.stopped) startNow(current);
    else unlock();
    form.querySelector("button").disabled = true;
    var wasJoined = root.dataset.joined === "true" && following;
    join().then(function (ok) {
      if (!ok) throw new Error("join");
      root.dataset.joined = "true";
      form.hidden = true;
      hint.hidden = true;
      state.ready = true;
      if (!current) say(root.dataset.labelReady);
      return wasJoined ? null : follow();
    }).catch(function () {
      form.querySelector("button").disabled = false;
      say(root.dataset.labelFailed);
    });
  });

  // Already in this group (a reload): follow it now, so that a cue in progress is
  // offered at once; the sound waits for the visitor's tap.
  if (root.dataset.joined === "true") {
    follow().catch(function () { say(root.dataset.labelOffline); });
  }
})();
