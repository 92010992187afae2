/* Career: progressive enhancement only — every form and link also works without
   JavaScript (the server checks everything).
   - The lead form: the parent's or guardian's part hides as soon as «18 лет и старше»
     is chosen (CSS :has does it too; this is for browsers without it).
   - The thank-you page: «Скопировать ссылку» (Clipboard API, else the text is selected
     for the phone's own menu) and «Поделиться» where the phone can share.
   - The quiz: answers go by fetch() with X-Offline-Queue, the same path as quest
     answers: without signal the service worker queues them (202 {queued}) and replays
     them once, in order, when the signal is back; the page then opens the profile. */
(function () {
  "use strict";

  /* --- the lead form ------------------------------------------------------------ */

  document.querySelectorAll(".career-form").forEach(function (form) {
    var guardian = form.querySelector("[data-guardian]");
    if (!guardian) return;
    function update() {
      guardian.hidden = !form.querySelector("input[data-minor]:checked");
    }
    form.addEventListener("change", update);
    update();
  });

  /* --- private links ------------------------------------------------------------ */

  document.querySelectorAll("[data-career-link]").forEach(function (box) {
    var field = box.querySelector("[data-link-field]");
    var copy = box.querySelector("[data-copy]");
    var share = box.querySelector("[data-share]");
    var status = box.querySelector("[data-link-status]");
    function selectAll() {
      field.focus();
      field.select();
      field.setSelectionRange(0, field.value.length);
    }
    field.addEventListener("focus", selectAll);
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var done = function () { status.textContent = copy.getAttribute("data-copied"); };
      var fallback = function () {
        selectAll();
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
        status.textContent = copied ? copy.getAttribute("data-copied") : copy.getAttribute("data-select");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, fallback);
      } else {
        fallback();
      }
    });
    if (navigator.share) {
      share.hidden = false;
      share.addEventListener("click", function () {
        navigator.share({ title: share.getAttribute("data-title"), url: field.value })
          .catch(function () { /* the visitor closed the share sheet */ });
      });
    }
  });

  /* --- the quiz, also without signal -------------------------------------------- */

  var quiz = document.querySelector("form[data-career-quiz]");
  if (!quiz || !window.fetch) return;
  var error = quiz.querySelector("[data-quiz-error]");
  var queued = quiz.querySelector("[data-quiz-queued]");

  function say(text) {
    error.textContent = text;
    error.hidden = !text;
    if (text) error.scrollIntoView({ block: "center" });
  }

  function showResult() {
    window.location.href = quiz.getAttribute("data-profile");
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      // The queued answers were just judged by the server: show the profile.
      if ((data.type === "replayed" || data.type === "flushed") && data.count &&
          quiz.hasAttribute("data-offline-queued")) showResult();
    });
  }

  /* The visitor stays on this page waiting for the result, and a phone does not always
     say when the signal is back (no "online" event): ask the worker to replay its
     queue now and then (offline.js asks too, on "online" and on every page). */
  function retry() {
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (worker && navigator.onLine) worker.postMessage({ type: "flush" });
  }

  quiz.addEventListener("submit", function (event) {
    event.preventDefault();
    if (quiz.getAttribute("aria-busy") === "true") return; /* a double tap */
    quiz.setAttribute("aria-busy", "true");
    var button = quiz.querySelector("button[type=submit]");
    button.disabled = true;
    fetch(quiz.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(quiz)),
      headers: { "Accept": "application/json", "X-Offline-Queue": "1" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, data: data || {} };
      });
    }).then(function (result) {
      var data = result.data;
      if (result.ok && data.queued) {
        quiz.setAttribute("data-offline-queued", "true");
        window.setInterval(retry, 3000);
        queued.hidden = false;
        queued.scrollIntoView({ block: "center" });
        say("");
        return; /* the button stays disabled: the answers are on their way */
      }
      if (result.ok && data.redirect) { window.location.href = data.redirect; return; }
      quiz.removeAttribute("aria-busy");
      button.disabled = false;
      say(data.detail || "");
    }).catch(function () {
      quiz.removeAttribute("aria-busy");
      button.disabled = false;
      say(quiz.getAttribute("data-t-failed"));
    });
  });
})();
