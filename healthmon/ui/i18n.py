"""English by default, Chinese (中文) on request: the translations live in locales/<language>/<domain>.json.

The key is the English text itself, so a missing translation shows English rather than a key name. Each page
(and each shared UI module) reads its own domain file on top of `common.json`, the words every page shares.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

import streamlit as st

LANGUAGES = {"en": "English", "zh": "中文"}
SOURCE_LANGUAGE = "en"
COMMON = "common"
LOCALES = Path(__file__).parent / "locales"


def language() -> str:
    """The viewer's choice, kept in the session so every page and rerun speaks it."""
    return st.session_state.get("lang", SOURCE_LANGUAGE)


def catalog_path(lang: str, domain: str) -> Path:
    """Where one domain's translations into one language are kept, next to this module so they ship with it."""
    return LOCALES / lang / f"{domain}.json"


@cache
def catalog(lang: str, domain: str) -> Mapping[str, str]:
    """The common words overlaid by the domain's own, read once per process: pages rerun on every interaction."""
    common = json.loads(catalog_path(lang, COMMON).read_text(encoding="utf-8"))
    if domain == COMMON:
        return common
    return {**common, **json.loads(catalog_path(lang, domain).read_text(encoding="utf-8"))}


def translator(domain: str = COMMON) -> Callable[[str], str]:
    """A `t(text)` for one domain, in the viewer's language; its catalogs load now, so a missing file fails at
    import."""
    for lang in LANGUAGES:
        if lang != SOURCE_LANGUAGE:
            catalog(lang, domain)

    def t(text: str) -> str:
        lang = language()
        return text if lang == SOURCE_LANGUAGE else catalog(lang, domain).get(text, text)

    return t
