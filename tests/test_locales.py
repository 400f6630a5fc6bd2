"""The locale files against the UI's text, read from the sources with `ast`: a page's Chinese can only go stale
silently, so each direction is checked here — text without an entry, and entries whose English left the code.

Literal texts are checked one by one. Texts that reach `t` through a variable (a record's status, a chart title
from a table) cannot be; for those the check is the other way round: every entry's English occurs in the code.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

from healthmon.catalog import spec
from healthmon.ui.i18n import COMMON, LANGUAGES, LOCALES, SOURCE_LANGUAGE, catalog, catalog_path

ROOT = Path(__file__).resolve().parents[1]
UI_SOURCES = sorted([*ROOT.glob("views/*.py"), *ROOT.glob("healthmon/ui/*.py"), *ROOT.glob("healthmon/ui/shaping/*.py"),
                     ROOT / "streamlit_app.py"])
# Modules that translate with the `t` another module hands them rather than one of their own: answers.py and
# each page's shaping module (shaping/<page>.py for views/<page>.py) with the page's, shaping/request.py with
# widgets' (show_request's). A shaping module shared by pages that words text must be listed here.
BORROWED = {"healthmon/ui/answers.py": "analysis", "healthmon/ui/shaping/request.py": "widgets"} | {
    f"healthmon/ui/shaping/{path.stem}.py": path.stem for path in ROOT.glob("healthmon/ui/shaping/*.py")
    if (ROOT / "views" / path.name).is_file()}
# The names a translator goes by where it is called.
TRANSLATE_NAMES = {"t", "words"}
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TARGETS = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def own_domain(tree: ast.Module) -> str | None:
    """The domain a module's `translator(...)` call names, COMMON when it names none, None without a call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "translator":
            if not node.args:
                return COMMON
            assert isinstance(node.args[0], ast.Constant), "translator() takes a literal domain"
            return str(node.args[0].value)
    return None


def imported_names(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """What a module imports from healthmon: the name it uses -> (module, attribute)."""
    return {alias.asname or alias.name: (node.module or "", alias.name) for node in tree.body
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("healthmon") for alias in node.names}


def translated_texts(tree: ast.Module) -> list[tuple[int, str]]:
    """Each text a module passes to its translator as a literal or an imported string constant, with its line."""
    imports = imported_names(tree)
    texts = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in TRANSLATE_NAMES
                and node.args):
            continue
        arg = node.args[0]
        assert not isinstance(arg, ast.JoinedStr), f"line {node.lineno}: an f-string can never match an entry"
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            texts.append((node.lineno, arg.value))
        elif isinstance(arg, ast.Name) and arg.id in imports:  # such as ACCEPTED_FORMS
            module, attribute = imports[arg.id]
            value = getattr(importlib.import_module(module), attribute)
            if isinstance(value, str):
                texts.append((node.lineno, value))
    return texts


def domains_in_use() -> dict[str, list[Path]]:
    """Each domain with the modules that translate through it."""
    used: dict[str, list[Path]] = {}
    for path in UI_SOURCES:
        domain = own_domain(parsed(path)) or BORROWED.get(relative(path))
        if domain:
            used.setdefault(domain, []).append(path)
    return used


def locale_files() -> list[Path]:
    return sorted(LOCALES.glob("*/*.json"))


def code_strings() -> set[str]:
    """Every string constant in the package and the pages: where a translated text, or a code shown as one, lives."""
    sources = [*ROOT.glob("healthmon/**/*.py"), *ROOT.glob("views/*.py"), ROOT / "streamlit_app.py"]
    return {node.value for path in sources for node in ast.walk(parsed(path))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_there_are_locale_files_and_each_maps_english_text_to_a_translation():
    assert locale_files()
    for path in locale_files():
        table = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(table, dict), path
        for key, value in table.items():
            assert isinstance(value, str) and key.strip() and value.strip(), (path, key)


def test_translations_keep_the_placeholders_their_english_is_formatted_with():
    for path in locale_files():
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            assert sorted(PLACEHOLDER.findall(value)) == sorted(PLACEHOLDER.findall(key)), (path, key)


@pytest.mark.parametrize("lang", TARGETS)
def test_every_domain_in_use_has_a_catalog_and_every_catalog_is_in_use(lang):
    used = set(domains_in_use()) | {COMMON}
    assert used == {path.stem for path in (LOCALES / lang).glob("*.json")}
    for domain in used:
        assert catalog_path(lang, domain).is_file()


@pytest.mark.parametrize("lang", TARGETS)
def test_every_text_a_module_translates_literally_has_an_entry(lang):
    missing = []
    for path in UI_SOURCES:
        tree = parsed(path)
        texts = translated_texts(tree)
        domain = own_domain(tree) or BORROWED.get(relative(path))
        assert domain or not texts, f"{relative(path)} translates text but has no domain"
        table = catalog(lang, domain) if domain else {}
        missing += [f"{relative(path)}:{line}: {text!r}" for line, text in texts if text not in table]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("lang", TARGETS)
def test_every_page_title_in_the_navigation_has_an_entry(lang):
    tree = parsed(ROOT / "streamlit_app.py")
    pages = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(isinstance(target, ast.Name) and target.id == "PAGES" for target in node.targets))
    titles = [title for _, title, _ in ast.literal_eval(pages)]
    assert [title for title in titles if title not in catalog(lang, COMMON)] == []


def test_every_entry_s_english_still_occurs_in_the_code():
    # Codes such as "not_loaded" are shown with their underscores as spaces, so either spelling counts.
    strings = code_strings()
    stale = [f"{relative(path)}: {key!r}" for path in locale_files()
             for key in json.loads(path.read_text(encoding="utf-8"))
             if key not in strings and key.replace(" ", "_") not in strings]
    assert not stale, "\n".join(stale)


def catalog_texts_shown(tree: ast.Module) -> list[tuple[int, str, str]]:
    """(line, metric, "label" or "description") for each catalog text a module shows of a metric it names
    literally: metric_label and metric_help calls, and Tile.of (a tile shows both)."""
    parts = {"metric_label": ("label",), "metric_help": ("description",), "Tile.of": ("label", "description")}
    shown = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        func = node.func
        name = (func.id if isinstance(func, ast.Name) else
                f"{func.value.id}.{func.attr}" if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                else None)
        shown += [(node.lineno, str(node.args[0].value), part) for part in parts.get(name or "", ())]
    return shown


@pytest.mark.parametrize("lang", TARGETS)
def test_every_catalog_text_a_page_shows_has_an_entry(lang):
    # metric_text translates the catalog's texts through a variable, which the literal check above cannot see.
    table = catalog(lang, "metrics")
    missing = [f"{relative(path)}:{line}: {metric}'s {part} {getattr(spec(metric), part)!r}"
               for path in UI_SOURCES for line, metric, part in catalog_texts_shown(parsed(path))
               if getattr(spec(metric), part) not in table]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("lang", TARGETS)
def test_every_default_rule_s_reason_has_an_entry(lang):
    # The Alerts page's rules table words each reason through a variable, which the literal check cannot see.
    from healthmon.analysis.rules import default_rules

    table = catalog(lang, "alerts")
    assert [rule.reason for rule in default_rules() if rule.reason not in table] == []
