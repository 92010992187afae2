"""Translations: gettext catalogs (``.po``) for the core and each plugin.

Catalogs are read with Babel at start and kept in memory; a plugin's domain falls
back to the core's, and a missing translation falls back to the source string.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable, Iterable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = ["PluralTranslator", "Translations", "Translator", "negotiate_language"]

CORE_LOCALES = Path(__file__).parent / "locale"

Translator = Callable[[str], str]
#: ``ngettext(singular, plural, n)``: the form for ``n`` in the language's plural rules.
PluralTranslator = Callable[[str, str, int], str]


def _load(path: Path) -> gettext.GNUTranslations | None:
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        catalog = read_po(fh)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translations:
    """All catalogs of one platform: ``(domain, language) -> catalog``."""

    def __init__(self, languages: Iterable[str]) -> None:
        self.languages = list(languages)
        self._catalogs: dict[tuple[str, str], gettext.NullTranslations] = {}
        self._translators: dict[tuple[str, str], Translator] = {}
        self._plurals: dict[tuple[str, str], PluralTranslator] = {}
        self.add_domain("promtour", CORE_LOCALES)

    def add_domain(self, domain: str, folder: Path | None) -> None:
        for lang in self.languages:
            core = self._catalogs.get(("promtour", lang))
            catalog: gettext.NullTranslations | None = None
            if folder is not None:
                catalog = _load(folder / lang / "LC_MESSAGES" / f"{domain}.po")
            if catalog is None:
                catalog = gettext.NullTranslations()
            if core is not None and domain != "promtour":
                catalog.add_fallback(core)
            self._catalogs[(domain, lang)] = catalog
        self._translators.clear()
        self._plurals.clear()

    def translator(self, lang: str, domain: str = "promtour") -> Translator:
        key = (domain, lang)
        fn = self._translators.get(key)
        if fn is None:
            catalog = self._catalogs.get(key) or self._catalogs.get(("promtour", lang))
            fn = catalog.gettext if catalog is not None else str
            self._translators[key] = fn
        return fn

    def plural_translator(self, lang: str, domain: str = "promtour") -> PluralTranslator:
        """``ngettext`` of a domain and language (Russian has three forms: 1 очко,
        2 очка, 5 очков; the catalog's ``Plural-Forms`` header says which is which)."""
        key = (domain, lang)
        fn = self._plurals.get(key)
        if fn is None:
            catalog = self._catalogs.get(key) or self._catalogs.get(("promtour", lang))
            fn = catalog.ngettext if catalog is not None else _english_plural
            self._plurals[key] = fn
        return fn


def _english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def negotiate_language(header: str | None, available: list[str], default: str) -> str:
    """Pick the best of ``available`` for an ``Accept-Language`` header."""
    if not header:
        return default
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        lang, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = lang.strip().lower().split("-")[0]
        if primary in available and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else default
