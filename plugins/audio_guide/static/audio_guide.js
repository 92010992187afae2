/* Audio guide player: large controls over the page's <audio>, the transcript
   highlight, resume (this phone's storage and the server), listening reports and the
   Media Session (lock-screen controls). No framework; without this script the page
   keeps the browser's own controls and the full transcript. */
(function () {
  "use strict";

  var SAVE_EVERY_MS = 5000;

  function fmt(seconds) {
    if (!isFinite(seconds)) return "–:––";
    var s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function randomId() {
    var bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes); // works on plain http too, unlike randomUUID
    return Array.prototype.map.call(bytes, function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function load(key) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function keep(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  function post(url, csrf, body, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": csrf
      },
      body: JSON.stringify(body)
    }).catch(function () { /* offline: the next save catches up */ });
  }

  function setupTrack(root, el) {
    var audio = el.querySelector("audio");
    var controls = el.querySelector(".ag-controls");
    var play = el.querySelector(".ag-play");
    var playLabel = el.querySelector(".ag-play-label");
    var icon = el.querySelector(".ag-icon");
    var seek = el.querySelector(".ag-seek");
    var nowText = el.querySelector(".ag-now");
    var totalText = el.querySelector(".ag-total");
    var speed = el.querySelector(".ag-speed");
    var list = el.querySelector(".ag-transcript");
    var cues = Array.prototype.slice.call(el.querySelectorAll(".ag-transcript li")).map(function (li) {
      return { li: li, start: parseFloat(li.dataset.start), end: parseFloat(li.dataset.end) };
    });
    var place = root.dataset.place;
    var track = el.dataset.track;
    var lang = el.dataset.lang;
    var csrf = root.dataset.csrf;
    var key = "ag:pos:" + root.dataset.positionUrl + ":" + place + ":" + track + ":" + lang;
    var current = -1;
    var lastSaved = 0;
    var listen = null;

    audio.removeAttribute("controls");
    controls.hidden = false;

    function newListen() {
      listen = { id: randomId(), started: false, sent: {}, finished: false, last: null };
    }
    newListen();

    function report(kind, quartile) {
      post(root.dataset.listenUrl, csrf, {
        listen: listen.id, kind: kind, place: place, track: track, lang: lang,
        quartile: quartile || 0
      });
    }

    function save(seconds, toServer, keepalive) {
      var value = { t: seconds, at: Date.now() };
      keep(key, value);
      if (toServer) {
        lastSaved = Date.now();
        post(root.dataset.positionUrl, csrf, {
          place: place, track: track, lang: lang, seconds: Math.max(0, seconds),
          duration: isFinite(audio.duration) ? audio.duration : 0
        }, keepalive);
      }
    }

    // Resume: the newer of this phone's note and the server's (another tab, a
    // reload after the storage was cleared).
    var server = { t: parseFloat(el.dataset.resume) || 0, at: parseFloat(el.dataset.resumeAt) || 0 };
    var local = load(key);
    var resume = local && local.at > server.at ? local : server;
    function applyResume() {
      if (resume && resume.t > 0 && isFinite(audio.duration) && resume.t < audio.duration - 1) {
        audio.currentTime = resume.t;
        listen.last = resume.t;
      }
      resume = null;
      showTime();
    }
    // The page loads no audio before play (preload="none": on a slow network the
    // bytes would delay the page); a visitor with a position to resume gets the
    // metadata now, so the player shows where it resumes.
    if (resume && resume.t > 0 && audio.preload === "none") audio.preload = "metadata";
    if (audio.readyState >= 1) applyResume();
    else audio.addEventListener("loadedmetadata", applyResume, { once: true });

    function highlight(t) {
      var index = -1;
      for (var i = 0; i < cues.length; i++) {
        if (cues[i].start <= t + 0.05) index = i; else break;
      }
      if (index === current) return;
      if (current >= 0) {
        cues[current].li.classList.remove("ag-current");
        cues[current].li.removeAttribute("aria-current");
      }
      current = index;
      if (index >= 0) {
        var li = cues[index].li;
        li.classList.add("ag-current");
        li.setAttribute("aria-current", "true");
        if (list && list.scrollHeight > list.clientHeight) {
          list.scrollTop = Math.max(0, li.offsetTop - list.clientHeight / 3);
        }
      }
    }

    function showTime() {
      var t = audio.currentTime || 0;
      var d = audio.duration;
      nowText.textContent = fmt(t);
      totalText.textContent = fmt(d);
      if (isFinite(d)) {
        seek.max = String(Math.floor(d));
        seek.value = String(Math.floor(t));
        seek.setAttribute("aria-valuetext", fmt(t) + " " + seek.dataset.of + " " + fmt(d));
      }
      // Nothing is "current" before the visitor played or resumed.
      highlight(t > 0 || !audio.paused ? t : -1);
    }

    function showPlaying() {
      var playing = !audio.paused;
      playLabel.textContent = playing ? play.dataset.labelPause : play.dataset.labelPlay;
      icon.textContent = playing ? "❚❚" : "▶";
    }

    function mediaSession() {
      if (!("mediaSession" in navigator)) return;
      try {
        if (typeof MediaMetadata === "function") {
          navigator.mediaSession.metadata = new MediaMetadata({
            title: el.dataset.title,
            artist: root.dataset.mediaArtist,
            album: root.dataset.mediaTitle
          });
        }
        var session = navigator.mediaSession;
        var handlers = {
          play: function () { audio.play(); },
          pause: function () { audio.pause(); },
          seekbackward: function (d) { audio.currentTime = Math.max(0, audio.currentTime - ((d && d.seekOffset) || 10)); },
          seekforward: function (d) { audio.currentTime = Math.min(audio.duration || 0, audio.currentTime + ((d && d.seekOffset) || 10)); },
          seekto: function (d) { if (d && typeof d.seekTime === "number") audio.currentTime = d.seekTime; }
        };
        Object.keys(handlers).forEach(function (action) {
          try { session.setActionHandler(action, handlers[action]); } catch (e) { /* unsupported */ }
        });
      } catch (e) { /* no Media Session here */ }
    }

    function positionState() {
      if (!("mediaSession" in navigator) || !navigator.mediaSession.setPositionState) return;
      if (!isFinite(audio.duration)) return;
      try {
        navigator.mediaSession.setPositionState({
          duration: audio.duration, playbackRate: audio.playbackRate,
          position: Math.min(audio.currentTime, audio.duration)
        });
      } catch (e) { /* ignore */ }
    }

    play.addEventListener("click", function () {
      if (audio.paused) audio.play().catch(function () {}); else audio.pause();
    });
    el.querySelector(".ag-back").addEventListener("click", function () {
      audio.currentTime = Math.max(0, audio.currentTime - 10);
    });
    el.querySelector(".ag-fwd").addEventListener("click", function () {
      if (isFinite(audio.duration)) audio.currentTime = Math.min(audio.duration, audio.currentTime + 10);
    });
    seek.addEventListener("input", function () { audio.currentTime = parseFloat(seek.value) || 0; });
    var rate = load("ag:rate");
    if (rate && speed.querySelector('option[value="' + rate + '"]')) speed.value = String(rate);
    audio.playbackRate = parseFloat(speed.value) || 1;
    speed.addEventListener("change", function () {
      audio.playbackRate = parseFloat(speed.value) || 1;
      keep("ag:rate", speed.value);
      positionState();
    });

    audio.addEventListener("play", function () {
      // One player at a time on the page.
      document.querySelectorAll("audio").forEach(function (other) {
        if (other !== audio && !other.paused) other.pause();
      });
      mediaSession();
    });
    audio.addEventListener("playing", function () {
      showPlaying();
      if (!listen.started) { listen.started = true; report("started"); }
      positionState();
    });
    audio.addEventListener("pause", function () {
      showPlaying();
      if (!audio.ended) save(audio.currentTime, true);
    });
    audio.addEventListener("seeked", function () {
      listen.last = audio.currentTime;
      showTime();
      positionState();
    });
    audio.addEventListener("durationchange", showTime);
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime;
      var d = audio.duration;
      showTime();
      if (!audio.paused && isFinite(d) && d > 0) {
        // A quartile counts when it was crossed while playing (not by a jump).
        if (listen.last !== null) {
          for (var q = 1; q <= 3; q++) {
            var mark = d * q / 4;
            if (!listen.sent[q] && listen.last < mark && t >= mark && t - listen.last < 5) {
              listen.sent[q] = true;
              report("progressed", q);
            }
          }
        }
        listen.last = t;
        keep(key, { t: t, at: Date.now() });
        if (Date.now() - lastSaved > SAVE_EVERY_MS) save(t, true);
      }
    });
    audio.addEventListener("ended", function () {
      showPlaying();
      if (!listen.finished) { listen.finished = true; report("finished"); }
      save(0, true); // heard to the end: next time starts from the beginning
      newListen();
    });
    window.addEventListener("pagehide", function () {
      if (!audio.paused) save(audio.currentTime, true, true);
    });
    showPlaying();
    showTime();
    return audio;
  }

  function setupPlayer(root) {
    var tracks = Array.prototype.slice.call(root.querySelectorAll(".ag-track"));
    var audios = {};
    tracks.forEach(function (el) { audios[el.dataset.track] = setupTrack(root, el); });

    var chooser = root.querySelector(".ag-choose");
    var preferred = load("ag:track");
    var selected = null;
    function choose(id, remember) {
      if (!audios[id]) return;
      tracks.forEach(function (el) {
        var on = el.dataset.track === id;
        el.hidden = !on;
        if (!on && !audios[el.dataset.track].paused) audios[el.dataset.track].pause();
      });
      if (chooser) {
        chooser.querySelectorAll("[data-choose]").forEach(function (b) {
          b.setAttribute("aria-pressed", b.dataset.choose === id ? "true" : "false");
        });
      }
      selected = id;
      if (remember) keep("ag:track", id);
    }
    if (chooser) {
      chooser.hidden = false;
      chooser.addEventListener("click", function (e) {
        var button = e.target.closest("[data-choose]");
        if (button) choose(button.dataset.choose, true);
      });
    }
    var initial = tracks.filter(function (el) { return el.dataset.default === "true"; })[0] || tracks[0];
    choose(preferred && audios[preferred] ? preferred : initial.dataset.track, false);

    var auto = root.querySelector(".ag-autoplay");
    if (auto && root.dataset.autoplayAllowed === "true") {
      var box = auto.querySelector("input");
      auto.hidden = false;
      box.checked = load("ag:autoplay") === true;
      box.addEventListener("change", function () { keep("ag:autoplay", box.checked); });
      // Only the page a scan opened plays by itself, and only if the visitor said so.
      if (box.checked && location.pathname.indexOf("/s/") === 0) {
        audios[selected].play().catch(function () { /* the phone wants a tap */ });
      }
    }
  }

  function start() {
    document.querySelectorAll("[data-ag-player]").forEach(setupPlayer);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
