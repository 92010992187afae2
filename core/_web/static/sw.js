/* promtour service worker: a saved tour without signal (docs/visitors.md).

   Hand-written and small on purpose (no library, no CDN): it does four things.
   1. Pages: network first; without signal the saved copy. A scanned /s/<code> is
      answered with the saved station page, its offline notice shown, and the
      check-in (the signed code, the scan time, a stable id) is queued in IndexedDB.
      A page with no copy gets the tour's offline page in the visitor's language.
   2. Media: from the saved copy when there is one; range requests (the audio element
      seeking) are cut from the cached full file.
   3. Posts marked X-Offline-Queue (quest and quiz answers): sent, or without signal
      queued after the check-ins and answered 202 {"queued": true}.
   4. Replay: the queue, oldest first, each with Idempotency-Key (its id) and
      X-Promtour-Action-Time (when it happened); the server records each once. */
"use strict";

var VERSION = "promtour-sw-1";
var CORE_CACHE = "promtour-core";
var CORE_FILES = ["/static/core/promtour.css", "/static/core/offline.js",
                  "/static/core/favicon.svg", "/static/core/icon-192.png", "/offline"];
var NAV_TIMEOUT_MS = 8000;
var DOUBLE_SCAN_MS = 10000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CORE_CACHE).then(function (cache) {
    return cache.addAll(CORE_FILES);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

/* --- the queue in IndexedDB ------------------------------------------------------- */

function db() {
  return new Promise(function (resolve, reject) {
    var open = indexedDB.open("promtour-offline", 1);
    open.onupgradeneeded = function () {
      open.result.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });
}

function tx(mode, work) {
  return db().then(function (d) {
    return new Promise(function (resolve, reject) {
      var t = d.transaction("queue", mode);
      var result = work(t.objectStore("queue"));
      t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
      t.onerror = function () { reject(t.error); };
    });
  });
}

function all() { return tx("readonly", function (s) { return s.getAll(); }); }
function add(item) { return tx("readwrite", function (s) { return s.add(item); }); }
function remove(seq) { return tx("readwrite", function (s) { return s.delete(seq); }); }

function randomId() {
  var bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) {
    return b.toString(16).padStart(2, "0");
  }).join("");
}

function queueCheckIn(code) {
  return all().then(function (items) {
    var now = Date.now();
    // A reload or a double tap of the same scan is the same check-in.
    var twice = items.some(function (i) {
      return i.kind === "checkin" && i.code === code && now - Date.parse(i.time) < DOUBLE_SCAN_MS;
    });
    if (twice) return null;
    return add({ id: randomId(), kind: "checkin", code: code, time: new Date(now).toISOString() });
  });
}

/* --- replay ----------------------------------------------------------------------- */

function send(item) {
  var headers = {
    "Accept": "application/json",
    "Idempotency-Key": item.id,
    "X-Promtour-Action-Time": item.time
  };
  if (item.kind === "checkin") {
    headers["Content-Type"] = "application/json";
    return fetch("/api/v1/visitor/check-ins", {
      method: "POST", credentials: "same-origin", headers: headers,
      body: JSON.stringify({ code: item.code })
    });
  }
  if (item.type) headers["Content-Type"] = item.type;
  if (item.csrf) headers["X-CSRF-Token"] = item.csrf;
  return fetch(item.url, {
    method: "POST", credentials: "same-origin", headers: headers, body: item.body
  });
}

var flushing = null;

function flush() {
  if (!flushing) {
    flushing = replay().finally(function () { flushing = null; });
  }
  return flushing;
}

function replay() {
  var sent = 0;
  function next(items) {
    if (!items.length) return sent;
    var item = items[0];
    return send(item).then(function (response) {
      // Not judged (server trouble, busy, a rate limit): keep it for later, in order.
      if (response.status >= 500 || response.status === 409 || response.status === 429) {
        return sent;
      }
      return remove(item.seq).then(function () { sent += 1; return next(items.slice(1)); });
    }, function () { return sent; /* still offline */ });
  }
  return all().then(next).then(function (count) {
    if (count) {
      return self.clients.matchAll().then(function (clients) {
        clients.forEach(function (c) { c.postMessage({ type: "replayed", count: count }); });
        return count;
      });
    }
    return count;
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "claim") {
    // A page that loaded while this worker was being installed: take it over (the
    // claim at activation can miss a page that was still navigating).
    event.waitUntil(self.clients.claim());
  } else if (data.type === "flush") {
    event.waitUntil(flush().then(function (count) {
      if (event.source) event.source.postMessage({ type: "flushed", count: count });
    }));
  } else if (data.type === "page" && data.offline) {
    // The offline page of the tour being looked at, in the visitor's language, for
    // the day the signal goes (also for a visitor who never saves the tour).
    event.waitUntil(caches.open(CORE_CACHE).then(function (cache) {
      return cache.match(data.offline).then(function (have) {
        if (have && have.headers.get("X-Lang") === data.lang) return;
        return fetch(data.offline, { credentials: "same-origin" }).then(function (r) {
          if (!r.ok) return;
          return r.text().then(function (text) {
            var headers = new Headers(r.headers);
            headers.set("X-Lang", data.lang || "");
            return cache.put(data.offline, new Response(text, { status: 200, headers: headers }));
          });
        });
      });
    }).catch(function () { /* offline: next time */ }));
  }
});

/* --- answering requests ----------------------------------------------------------- */

var MATCH = { ignoreSearch: true, ignoreVary: true };

function timeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (r) { clearTimeout(timer); resolve(r); },
                 function (e) { clearTimeout(timer); reject(e); });
  });
}

function withNotice(response) {
  return response.text().then(function (html) {
    var headers = new Headers(response.headers);
    headers.set("X-Promtour-Offline", "saved");
    return new Response(html.replace("data-offline-notice hidden", "data-offline-notice"),
                        { status: 200, headers: headers });
  });
}

function offlinePage(enterprise, tour) {
  var tourPage = enterprise && tour ? "/t/" + enterprise + "/" + tour + "/offline" : null;
  return (tourPage ? caches.match(tourPage, MATCH) : Promise.resolve(null)).then(function (r) {
    return r || caches.match("/offline", MATCH);
  }).then(function (r) {
    return r || new Response("<!doctype html><meta charset=utf-8><title>Offline</title>" +
      "<h1>Нет связи · No connection</h1>", { status: 503, headers: { "Content-Type": "text/html" } });
  });
}

function offlineNavigation(url) {
  var path = url.pathname;
  var scan = /^\/s\/([^/]+)$/.exec(path);
  if (scan) {
    var code = decodeURIComponent(scan[1]);
    var parts = code.split(".");
    if (parts.length !== 5) return offlinePage();
    return caches.match("/t/" + parts[0] + "/" + parts[1] + "/saved/" + parts[2], MATCH)
      .then(function (saved) {
        if (!saved) return offlinePage(parts[0], parts[1]);
        return queueCheckIn(code).then(function () { return withNotice(saved); });
      });
  }
  var at = /^\/t\/([^/]+)\/([^/]+)\/at\/([^/]+)$/.exec(path);
  if (at) {
    return caches.match("/t/" + at[1] + "/" + at[2] + "/saved/" + at[3], MATCH).then(function (saved) {
      return saved ? withNotice(saved) : offlinePage(at[1], at[2]);
    });
  }
  return caches.match(url.pathname, MATCH).then(function (cached) {
    if (cached) return cached;
    var tour = /^\/t\/([^/]+)\/([^/]+)/.exec(path);
    return tour ? offlinePage(tour[1], tour[2]) : offlinePage();
  });
}

function navigate(event, url) {
  return timeout(fetch(event.request), NAV_TIMEOUT_MS).then(function (response) {
    // Signal is back: whatever was queued goes now, in order.
    event.waitUntil(flush());
    return response;
  }, function () { return offlineNavigation(url); });
}

function rangeOf(header, size) {
  var m = /^bytes=(\d*)-(\d*)$/.exec((header || "").trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  var start, end;
  if (m[1] === "") { start = Math.max(size - parseInt(m[2], 10), 0); end = size - 1; }
  else { start = parseInt(m[1], 10); end = m[2] ? Math.min(parseInt(m[2], 10), size - 1) : size - 1; }
  return start < size && start <= end ? [start, end] : null;
}

function media(request) {
  return caches.match(request.url, { ignoreVary: true }).then(function (cached) {
    if (!cached) return fetch(request);
    var asked = request.headers.get("Range");
    if (!asked) return cached;
    return cached.arrayBuffer().then(function (buffer) {
      var size = buffer.byteLength;
      var range = rangeOf(asked, size);
      if (!range) {
        return new Response("", { status: 416, headers: { "Content-Range": "bytes */" + size } });
      }
      return new Response(buffer.slice(range[0], range[1] + 1), {
        status: 206,
        headers: {
          "Content-Type": cached.headers.get("Content-Type") || "application/octet-stream",
          "Content-Range": "bytes " + range[0] + "-" + range[1] + "/" + size,
          "Content-Length": String(range[1] - range[0] + 1),
          "Accept-Ranges": "bytes"
        }
      });
    });
  });
}

function postOrQueue(request) {
  var copy = request.clone();
  function enqueue() {
    return copy.text().then(function (body) {
      var item = {
        id: randomId(), kind: "post", url: request.url, body: body,
        type: copy.headers.get("Content-Type"), csrf: copy.headers.get("X-CSRF-Token"),
        time: new Date().toISOString()
      };
      return add(item).then(function () {
        return new Response(JSON.stringify({ queued: true, id: item.id }), {
          status: 202, headers: { "Content-Type": "application/json" }
        });
      });
    });
  }
  // Queued check-ins go first: an answer needs its station's check-in.
  return flush().then(all).then(function (waiting) {
    if (waiting.length) return enqueue();
    return fetch(request).catch(enqueue);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST") {
    if (request.headers.get("X-Offline-Queue")) event.respondWith(postOrQueue(request));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.indexOf("/media/") === 0) {
    event.respondWith(media(request));
  } else if (request.mode === "navigate") {
    event.respondWith(navigate(event, url));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fetch(request).catch(function () {
      return caches.match(request, MATCH).then(function (r) { return r || Response.error(); });
    }));
  }
});
