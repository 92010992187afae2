"""One stylesheet and one script per set of plugins, under a content-hash URL.

A tour's pages used to link the core's stylesheet and every enabled plugin's CSS and
JS files one by one: six requests before a phone could use a station page, each one
round trip (562.5 ms on a "Fast 3G" network) and each revalidated on the next page.
Now the core concatenates them, in the same order as before, into one ``.css`` and
one ``.js`` per plugin set, served under ``/static/b/<digest>/<plugins>.<ext>``:

- the digest is of the content, so the URL changes when a file does and the answer
  can be cached for a year (``immutable``: no revalidation on the next station);
- the plugin set is in the URL, so any worker (or a restarted server) can build the
  bundle it is asked for; a digest that is not the current content's is a 404 (an
  old page asking for files that no longer exist);
- gzip is computed once per bundle, not per request.

The first page a new visitor gets (no visitor cookie yet: a phone that never came
here, its cache empty) carries the stylesheet and the script inline instead of
linking them: a linked stylesheet blocks the first paint for one more round trip,
562.5 ms on "Fast 3G", which alone would keep the page from painting within a
second, and a linked script keeps the page unusable for that round trip too. That
page's CSP allows exactly these two blocks by their hashes (no ``'unsafe-inline'``),
and the page prefetches both URLs so the next pages, which link them, find them
cached. The inline script stands at the end of ``<body>`` and runs after the first
paint, on the parsed page (see ``AFTER_PAINT_START``): as the ``defer`` of the linked
one, but also after the page's own deferred scripts (none depends on the bundle).

The script bundle ends by setting ``data-ready`` on ``<html>`` once the plugins'
scripts have started (on ``DOMContentLoaded``, after the handlers they registered):
``bench/page.py`` and browser tests read it as "the page is usable".
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from collections.abc import Iterable
from pathlib import Path

import msgspec

__all__ = ["BUNDLE_PREFIX", "READY_SNIPPET", "Bundle", "Bundles"]

BUNDLE_PREFIX = "/static/b"

#: Appended to every script bundle. A listener added last runs after the plugins'
#: own ``DOMContentLoaded`` handlers (their setup), so the flag means "set up".
READY_SNIPPET = (
    "\n;(function () {\n"
    "  function ready() { document.documentElement.setAttribute('data-ready', ''); }\n"
    "  if (document.readyState === 'loading') "
    "document.addEventListener('DOMContentLoaded', ready);\n"
    "  else ready();\n"
    "})();\n"
)

#: Around the script bundle when it is inline (a new visitor's first page): run at its
#: place (the end of ``<body>``) it held the first paint back by its compile and the
#: plugins' set-up, 100-300 ms measured (docs/performance.md). So it runs after the
#: first frame (``requestAnimationFrame`` runs before a frame is painted, the
#: ``setTimeout`` in it after; the 500 ms one is for a hidden page, which gets no
#: frames) and on the parsed page, as ``defer`` ran it: the plugins' code finds the DOM
#: complete and ``readyState`` past "loading"; the ``DOMContentLoaded`` listeners it
#: adds (that event has passed) are called right after it, in order, and only then is
#: ``data-ready`` set, as READY_SNIPPET does for the linked bundle. The files are
#: functions of their own, so one more function around them changes nothing for them.
AFTER_PAINT_START = """(function (run) {
  var done = false;
  function go() {
    if (done) return;
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { setTimeout(go, 0); });
      return;
    }
    done = true;
    var later = [], add = document.addEventListener;
    document.addEventListener = function (type, listener) {
      if (type === "DOMContentLoaded") later.push(listener);
      else add.apply(document, arguments);
    };
    try { run(); } finally { document.addEventListener = add; }
    later.forEach(function (listener) {
      try {
        var event = new Event("DOMContentLoaded");
        if (typeof listener === "function") listener.call(document, event);
        else if (listener) listener.handleEvent(event);
      } catch (error) { setTimeout(function () { throw error; }, 0); }
    });
    document.documentElement.setAttribute("data-ready", "");
  }
  requestAnimationFrame(function () { setTimeout(go, 0); });
  setTimeout(go, 500);
})(function () {
"""
AFTER_PAINT_END = "\n});\n"

MEDIA_TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"}


class Bundle(msgspec.Struct, frozen=True):
    """One concatenated file: its content, gzipped content and URL."""

    url: str
    digest: str
    media_type: str
    body: bytes
    gzipped: bytes
    #: The bundle as the text of a ``<style>`` or ``<script>`` block ("" when it cannot
    #: be one), and the CSP source that allows exactly that block (``'sha256-...'``).
    inline: str = ""
    csp_source: str = ""


class Bundles:
    """Builds and keeps the bundles; ``sources`` maps a plugin to its static folder
    and its CSS and JS file names (``PluginInfo.css``/``.js``)."""

    def __init__(
        self,
        core_css: Path,
        sources: dict[str, tuple[Path | None, tuple[str, ...], tuple[str, ...]]],
        core_js: Path | None = None,
    ) -> None:
        self._core_css = core_css
        self._core_js = core_js
        self._sources = sources
        self._built: dict[tuple[str, str], Bundle] = {}
        self._lock = threading.Lock()

    def get(self, plugins: Iterable[str], ext: str) -> Bundle:
        """The bundle of ``ext`` (``css``/``js``) for these plugins (unknown ones and
        plugins without files are left out, as the separate links left them out)."""
        names = "+".join(sorted(p for p in set(plugins) if p in self._sources))
        key = (names, ext)
        bundle = self._built.get(key)
        if bundle is None:
            with self._lock:
                bundle = self._built.get(key)
                if bundle is None:
                    bundle = self._built[key] = self._build(names, ext)
        return bundle

    def lookup(self, digest: str, name: str) -> Bundle | None:
        """The bundle a ``/static/b/<digest>/<name>`` URL asks for, if it is current."""
        stem, _, ext = name.rpartition(".")
        if ext not in MEDIA_TYPES or not stem:
            return None
        plugins = [] if stem == "core" else stem.split("+")
        if any(p not in self._sources for p in plugins):
            return None
        bundle = self.get(plugins, ext)
        return bundle if bundle.digest == digest else None

    def _build(self, names: str, ext: str) -> Bundle:
        parts: list[bytes] = []
        if ext == "css":
            parts.append(self._core_css.read_bytes())
        elif self._core_js is not None:
            parts.append(self._core_js.read_bytes() + b"\n;")
        for name in names.split("+") if names else []:
            folder, css, js = self._sources[name]
            if folder is None:
                continue
            for file in css if ext == "css" else js:
                parts.append(f"\n/* {name}/{file} */\n".encode())
                data = (folder / file).read_bytes()
                # A script file may end without a newline or a semicolon: keep each
                # file a statement list of its own.
                parts.append(data + (b"\n;" if ext == "js" else b""))
        code = b"".join(parts)
        body = code + READY_SNIPPET.encode() if ext == "js" else code
        digest = hashlib.sha256(body).hexdigest()[:16]
        inline = csp_source = ""
        text = body.decode()
        if _inlinable(text, ext):
            inline = text if ext == "css" else AFTER_PAINT_START + code.decode() + AFTER_PAINT_END
            sha = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
            csp_source = f"'sha256-{sha}'"
        return Bundle(
            url=f"{BUNDLE_PREFIX}/{digest}/{names or 'core'}.{ext}",
            digest=digest,
            media_type=MEDIA_TYPES[ext],
            body=body,
            gzipped=gzip.compress(body, 9, mtime=0),
            inline=inline,
            csp_source=csp_source,
        )


#: What could end a ``<style>`` block early, or end a ``<script>`` block early or keep
#: it from ending (the HTML parser's "script data escaped" states). A bundle with any
#: of these stays linked only.
_NOT_INLINE = {"css": ("</",), "js": ("</script", "<!--", "<script")}


def _inlinable(text: str, ext: str) -> bool:
    lowered = text.lower()
    return not any(marker in lowered for marker in _NOT_INLINE[ext])
