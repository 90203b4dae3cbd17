"""Translation catalogues: one English catalogue per domain, message ids in Danish.

``python -m youthclub.catalogues extract`` updates every ``.po`` file from the code and
templates (new texts appear with an empty English translation to fill in);
``python -m youthclub.catalogues compile`` builds the ``.mo`` files the app reads
(``make`` runs it); ``missing`` lists texts without an English translation; ``fill FILE.json`` writes
English texts (a JSON object, Danish -> English) into every catalogue that needs them.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
TEMPLATES = ROOT / "templates"
SHARED_TEMPLATE_DIRS = ("macros", "errors", "main")
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2")]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.do"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2)}


def domains() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def _sources(domain: str | None):
    """(directory, filter) pairs for a domain, or for the shared catalogue when None."""
    if domain is None:
        yield PACKAGE, lambda path: "/" not in path  # modules at the package's top level
        yield TEMPLATES, lambda path: "/" not in path or path.split("/")[0] in SHARED_TEMPLATE_DIRS
    else:
        yield PACKAGE / domain, lambda path: True
        if (TEMPLATES / domain).is_dir():
            yield TEMPLATES / domain, lambda path: True


def extract(domain: str | None) -> Catalog:
    catalog = Catalog(locale="en", project="youthclub", charset="utf-8")
    for directory, keep in _sources(domain):
        if not directory.is_dir():
            continue

        def callback(filename, method, options, keep=keep):
            return None

        for filename, lineno, message, comments, context in extract_from_dir(
            str(directory), METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
        ):
            if not keep(filename.replace("\\", "/")):
                continue
            catalog.add(message, None, [(str(directory.relative_to(ROOT) / filename), lineno)],
                        auto_comments=comments, context=context)
    return catalog


def po_path(domain: str | None) -> Path:
    base = PACKAGE / domain if domain else PACKAGE
    return base / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def _read(path: Path) -> Catalog:
    if not path.exists():
        return Catalog(locale="en", project="youthclub")
    with path.open("rb") as fh:
        return read_po(fh, locale="en")


def _translated(string) -> bool:
    """A singular text is translated when non-empty; a plural one when every form is."""
    if isinstance(string, (list, tuple)):
        return bool(string) and all(string)
    return bool(string)


def update_all() -> None:
    for domain in [None, *domains()]:
        template = extract(domain)
        if not len(template):
            continue
        path = po_path(domain)
        catalog = _read(path)
        catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, ignore_obsolete=True)
        print(f"updated {path.relative_to(ROOT)} ({len(catalog)} messages)")


def compile_all() -> None:
    for path in sorted(PACKAGE.glob("**/translations/en/LC_MESSAGES/messages.po")):
        catalog = _read(path)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)


def missing() -> dict[str, list[str]]:
    """Texts in the code or templates that have no English translation, by domain."""
    result = {}
    for domain in [None, *domains()]:
        catalog = _read(po_path(domain))
        gaps = []
        for message in extract(domain):
            if not message.id:
                continue
            entry = catalog.get(message.id, context=message.context)
            translated = entry is not None and _translated(entry.string)
            if not translated or (entry is not None and entry.fuzzy):
                gaps.append(message.id if isinstance(message.id, str) else message.id[0])
        if gaps:
            result[domain or "shared"] = gaps
    return result


def fill(translations: dict[str, str]) -> int:
    """Write English ``translations`` (Danish id -> English) into every catalogue that has the id."""
    filled = 0
    for path in sorted(PACKAGE.glob("**/translations/en/LC_MESSAGES/messages.po")):
        catalog = _read(path)
        changed = False
        for message in catalog:
            key = message.id if isinstance(message.id, str) else message.id[0]
            if key in translations and (not _translated(message.string) or message.fuzzy):
                value = translations[key]
                message.string = tuple(value) if isinstance(message.id, (list, tuple)) else value
                message.flags.discard("fuzzy")
                changed = True
                filled += 1
        if changed:
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, ignore_obsolete=True)
    return filled


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "compile"
    if command == "extract":
        update_all()
    elif command == "compile":
        compile_all()
    elif command == "missing":
        gaps = missing()
        for domain, ids in gaps.items():
            print(f"[{domain}]")
            for msgid in ids:
                print("  ", msgid)
        sys.exit(1 if gaps else 0)
    elif command == "fill":
        import json

        count = fill(json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))
        print(f"filled {count} translations")
    else:
        sys.exit(f"unknown command {command!r}: extract, compile, missing or fill FILE.json")
