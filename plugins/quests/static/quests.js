/* Quests: progressive enhancement only — every form also works without JavaScript.
   Answers and hints go by fetch() and the mission card is replaced by the server's
   re-rendered one; leaderboards follow Server-Sent Events; the certificate prints.
   Nothing here knows a right answer: the server checks every answer. */
(function () {
  "use strict";

  function setScore(score) {
    if (typeof score !== "number") return;
    document.querySelectorAll("[data-quest-score]").forEach(function (el) {
      el.textContent = String(score);
    });
  }

  function showStatus(form, text) {
    var card = form.closest("[data-mission]");
    var status = card && card.querySelector("[data-quest-status]");
    if (status) {
      status.textContent = text;
    } else if (text) {
      window.alert(text);
    }
  }

  function onSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-quest-form")) return;
    if (!window.fetch) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return; /* a double tap */
    form.setAttribute("aria-busy", "true");
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      /* Without signal the service worker queues the answer (202 {queued}). */
      headers: { "Accept": "application/json", "X-Offline-Queue": "1" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, data: data };
      });
    }).then(function (result) {
      var data = result.data || {};
      if (result.ok && data.queued) {
        /* Judged by the server once the phone is back online; the page reloads then. */
        var queuedCard = form.closest("[data-mission]");
        if (queuedCard) queuedCard.setAttribute("data-offline-pending", "true");
        showStatus(form, document.body.getAttribute("data-offline-queued") || "");
        return;
      }
      if (result.ok && data.html) {
        var card = form.closest("[data-mission]");
        var holder = document.createElement("div");
        holder.innerHTML = data.html;
        var fresh = holder.firstElementChild;
        if (card && fresh) {
          card.replaceWith(fresh);
          var status = fresh.querySelector("[data-quest-status]");
          if (status && data.message) status.textContent = data.message;
          /* The card is new, so its own live region may go unheard: say it here too. */
          var announce = document.querySelector("[data-quest-announce]");
          if (announce && data.message) announce.textContent = data.message;
          var focus = fresh.querySelector("h3");
          if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus({ preventScroll: true }); }
        }
        setScore(data.score);
        return;
      }
      form.removeAttribute("aria-busy");
      buttons.forEach(function (b) { b.disabled = false; });
      showStatus(form, data.detail || data.message || "");
    }).catch(function () {
      form.removeAttribute("aria-busy");
      buttons.forEach(function (b) { b.disabled = false; });
      showStatus(form, document.documentElement.lang === "ru"
        ? "Нет связи. Попробуйте ещё раз."
        : "No connection. Please try again.");
    });
  }

  function follow(el) {
    if (!window.EventSource) return;
    var source = new EventSource(el.getAttribute("data-quest-live"));
    source.addEventListener("board", function (event) {
      try {
        var data = JSON.parse(event.data);
        el.innerHTML = data.html;
      } catch (e) { /* keep the last board */ }
    });
  }

  document.addEventListener("submit", onSubmit);
  document.querySelectorAll("[data-quest-live]").forEach(follow);
  document.querySelectorAll("[data-quest-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
