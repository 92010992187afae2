/* The page's side of the offline tour: registers the service worker (/sw.js), saves
   the tour into the Cache Storage with a progress bar and its size first, and asks the
   worker to replay what was queued whenever the page opens online or the signal
   comes back. Without a service worker (an old browser, a private window) nothing
   here shows and the site works as before, online. */
(function () {
  "use strict";

  if (!("serviceWorker" in navigator) || !window.caches) return;

  var body = document.body;

  function tell(message) {
    return navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage(message);
    });
  }

  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* none */ });
  navigator.serviceWorker.ready.then(function (registration) {
    if (!navigator.serviceWorker.controller && registration.active) {
      registration.active.postMessage({ type: "claim" });
    }
  });

  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "replayed" && data.count) {
      // Queued visits and answers were just judged: show their results.
      var shown = document.querySelector("[data-offline-notice]:not([hidden])") ||
                  document.querySelector("[data-offline-pending]") ||
                  document.querySelector(".progress .count");
      if (shown) window.location.reload();
    }
  });

  function online() {
    if (navigator.onLine) tell({ type: "flush" });
  }
  window.addEventListener("online", online);
  tell({
    type: "page",
    offline: body.getAttribute("data-offline-page"),
    lang: document.documentElement.lang
  }).then(online);

  /* --- saving a tour ------------------------------------------------------------- */

  var section = document.querySelector("[data-offline-save]");
  if (!section) return;
  var button = section.querySelector("[data-offline-button]");
  var bar = section.querySelector("[data-offline-progress]");
  var status = section.querySelector("[data-offline-status]");
  var size = section.querySelector("[data-offline-size]");
  var tour = section.getAttribute("data-tour");
  var lang = document.documentElement.lang;
  var cacheName = "promtour-tour-" + tour;
  var metaKey = "/__offline__/" + tour;
  var say = function (name, values) {
    var text = section.getAttribute("data-t-" + name) || "";
    Object.keys(values || {}).forEach(function (k) { text = text.replace("{" + k + "}", values[k]); });
    return text;
  };
  var manifest = null;

  function mb(bytes) {
    var value = (bytes / 1048576).toFixed(1);
    return lang === "ru" ? value.replace(".", ",") : value;
  }

  function savedMeta() {
    return caches.open(cacheName).then(function (cache) { return cache.match(metaKey); })
      .then(function (r) { return r ? r.json() : null; });
  }

  function showSaved(meta) {
    section.setAttribute("data-offline-state", "saved");
    status.textContent = say("saved");
    button.textContent = say("update");
    bar.hidden = true;
    section.setAttribute("data-saved-lang", meta.lang);
  }

  function save() {
    if (section.getAttribute("aria-busy") === "true") return Promise.resolve();
    section.setAttribute("aria-busy", "true");
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    var got = manifest ? Promise.resolve(manifest) : load();
    return got.then(function (m) {
      var total = m.total_bytes || 1;
      var done = 0;
      return caches.delete(cacheName).then(function () { return caches.open(cacheName); })
        .then(function (cache) {
          var chain = Promise.resolve();
          m.files.forEach(function (file) {
            chain = chain.then(function () {
              return fetchWhole(file.url, 3).then(function (response) {
                return cache.put(file.url, response);
              }).then(function () {
                done += file.bytes;
                var percent = Math.min(100, Math.round(done * 100 / total));
                bar.value = percent;
                status.textContent = say("saving", { percent: percent });
              });
            });
          });
          return chain.then(function () {
            var meta = { lang: m.lang, revision: m.revision, bytes: m.total_bytes,
                         saved: new Date().toISOString() };
            return cache.put(metaKey, new Response(JSON.stringify(meta), {
              headers: { "Content-Type": "application/json" }
            })).then(function () { return meta; });
          });
        });
    }).then(function (meta) {
      showSaved(meta);
    }, function () {
      section.setAttribute("data-offline-state", "failed");
      status.textContent = say("failed");
      bar.hidden = true;
    }).then(function () {
      section.removeAttribute("aria-busy");
      button.disabled = false;
    });
  }

  /* A file as it should be kept: a page whose parts were not ready (503) is asked
     for again, a little later. */
  function fetchWhole(url, tries) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (response.ok) return response;
      if (tries > 1 && response.status === 503) {
        return new Promise(function (resolve) { setTimeout(resolve, 1000); })
          .then(function () { return fetchWhole(url, tries - 1); });
      }
      throw new Error(url + ": " + response.status);
    });
  }

  function load() {
    return fetch(section.getAttribute("data-manifest"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (m) {
      manifest = m;
      size.textContent = say("size", { mb: mb(m.total_bytes) });
      return m;
    });
  }

  section.hidden = false;
  button.addEventListener("click", save);
  savedMeta().then(function (meta) {
    if (meta && meta.lang === lang) showSaved(meta);
    if (!navigator.onLine) return;
    return load().then(function () {
      var auto = section.getAttribute("data-auto") === "true";
      if (auto && !(meta && meta.lang === lang)) return save();
    });
  }).catch(function () { /* offline now: the saved state, if any, is shown */ });
})();
