// Live now: reload the figures every 15 s (no library; the table has aria-live).
"use strict";
(function () {
  setInterval(async function () {
    try {
      const response = await fetch(location.href, { headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = doc.querySelector("#t-live");
      const old = document.querySelector("#t-live");
      if (fresh && old) old.replaceWith(fresh);
    } catch (e) { /* offline for a moment: try again next time */ }
  }, 15000);
})();
