"""The site navigation as data: MkDocs ``nav`` and static-i18n ``nav_translations`` are generated from
the page registry plus the strings catalog; ``site/mkdocs.yml`` holds neither.

A navigation (:data:`Nav`) is a list of entries in site order: a page ``(page, {lang: title})``,
where ``page`` names ``<page>.md`` in the docs dir (static-i18n's suffix structure: ``<page>.ko.md`` /
``<page>.en.md``), or a section ``(name, {lang: title}, [page entries])``. :func:`site_nav` is the
site's: the registry's sections (generator/pages/registry.py ``SECTIONS``; a section titled
``t(lang, "nav_section.<name>")``, the top-level group unnamed), each page of the registry once,
titled ``t(lang, "nav.<page>")`` in every language; a section whose pages are all absent from
``PAGES`` is dropped, a page of ``PAGES`` in no section is a ``ValueError``.
:func:`generator.pipeline.build.build_site` writes a navigation into the transient child config
(``INHERIT: mkdocs.yml``, :func:`write_child_config`) it builds from, as :func:`nav_settings` returns it:

* ``nav``: ``- <default-language title>: <page>.md``, in order; a section is
  ``- <default-language title>: [<its pages>]``;
* ``plugins``: the parent's plugin list, with each other i18n language's ``nav_translations`` set to
  ``{<default-language title>: <its title>}`` for pages and sections (replacing any it had). MkDocs' ``INHERIT`` deep-merges
  mappings but *replaces* lists (mergedeep's REPLACE strategy in mkdocs/utils/yaml.py), and
  ``plugins`` is a list, so the child carries the whole list.

The parent is read with a YAML loader that tolerates ``!ENV`` and ``!!python/...`` tags; a plugin
setting that uses one cannot be copied and is a ``ValueError``, as are a page without a title in a
configured language and two entries (pages or sections) sharing a default-language title (one translation map per
language could not tell them apart). ``build_site`` reports these as a ``BuildError``.
:func:`read_config_value` reads one top-level scalar of mkdocs.yml (``docs_dir``) with a regex.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import yaml

from generator.common.languages import LANGUAGES

Nav = list[tuple]  # (page, {lang: title}) or (section, {lang: title}, [(page, {lang: title}), ...])


def site_nav() -> Nav:
    """The registry's sections with every page of ``PAGES`` once, in site order, titled from the
    strings catalog (``nav.<page>``, ``nav_section.<section>``) in every language."""
    from generator.pages.registry import PAGES, SECTIONS
    from generator.render.strings import t

    def page(name: str) -> tuple:
        return name, {lang: t(lang, f"nav.{name.replace('/', '.')}") for lang in LANGUAGES}

    placed = [p for _, pages in SECTIONS for p in pages]
    loose = [p for p in PAGES if p not in placed]
    if loose:
        raise ValueError(f"page(s) in no nav section: {', '.join(loose)}")
    nav: Nav = []
    for section, pages in SECTIONS:
        entries = [page(p) for p in pages if p in PAGES]
        if section is None:
            nav.extend(entries)
        elif entries:
            nav.append((section, {lang: t(lang, f"nav_section.{section}") for lang in LANGUAGES}, entries))
    return nav


class _Tagged:
    """A value behind a YAML tag (``!ENV``, ``!!python/...``): evaluated by MkDocs, not copyable."""


_TAGGED = _Tagged()


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: _TAGGED)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: _TAGGED)


def _tagged(value) -> bool:
    if isinstance(value, dict):
        return any(_tagged(v) for v in value.values())
    if isinstance(value, list):
        return any(_tagged(v) for v in value)
    return value is _TAGGED


def _i18n_languages(plugins: list) -> list[dict]:
    for plugin in plugins:
        if isinstance(plugin, dict) and isinstance(plugin.get("i18n"), dict) and plugin["i18n"].get("languages"):
            return plugin["i18n"]["languages"]
    raise ValueError("mkdocs.yml has no i18n plugin with languages to translate the nav into")


def nav_settings(config_file: Path, nav: Nav) -> dict:
    """``{"nav": ..., "plugins": ...}`` for a child config of ``config_file`` showing ``nav``."""
    parent = yaml.load(Path(config_file).read_text("utf-8"), Loader=_Loader) or {}
    plugins = parent.get("plugins")
    if not isinstance(plugins, list):
        raise ValueError(f"{Path(config_file).name} has no plugins list")
    if _tagged(plugins):
        raise ValueError(
            f"the plugins of {Path(config_file).name} use a YAML tag (!ENV, !!python); "
            "the generated nav cannot copy them"
        )
    languages = _i18n_languages(plugins)
    locales = [lang["locale"] for lang in languages]
    default = next((lang["locale"] for lang in languages if lang.get("default")), locales[0])
    translations = {locale: {} for locale in locales if locale != default}
    seen: set[str] = set()

    def title(name: str, titles: dict, kind: str) -> str:
        missing = [locale for locale in locales if not titles.get(locale)]
        if missing:
            raise ValueError(f"{kind} {name!r} has no nav title in {', '.join(missing)}")
        key = titles[default]
        if key in seen:
            raise ValueError(f"two pages share the nav title {key!r} ({default})")
        seen.add(key)
        for locale, table in translations.items():
            table[key] = titles[locale]
        return key

    def entry(item: tuple) -> dict:
        if len(item) == 3:
            name, titles, children = item
            return {title(name, titles, "section"): [entry(child) for child in children]}
        name, titles = item
        return {title(name, titles, "page"): f"{name}.md"}

    entries = [entry(item) for item in nav]
    for lang in languages:
        if lang["locale"] in translations:
            lang["nav_translations"] = translations[lang["locale"]]
    return {"nav": entries, "plugins": plugins}


def child_config(parent_name: str, settings: dict) -> str:
    """The text of a child config: ``INHERIT: <parent_name>`` (first line) and ``settings``."""
    return yaml.safe_dump({"INHERIT": parent_name, **settings}, allow_unicode=True, sort_keys=False, width=1 << 20)


def write_child_config(config_file: Path, settings: dict, prefix: str) -> Path | None:
    """A new ``<prefix>*.mkdocs.yml`` beside ``config_file`` (so relative paths such as custom_dir
    and hooks resolve as usual) inheriting from it with ``settings``; None when there are none."""
    if not settings:
        return None
    text = child_config(config_file.name, settings)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".mkdocs.yml", dir=config_file.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return Path(name)


def read_config_value(config_file: Path, key: str) -> str | None:
    """A top-level scalar of mkdocs.yml (``docs_dir``) without evaluating ``!ENV`` / python tags."""
    m = re.search(rf"^{re.escape(key)}:\s*([^#\n]+?)\s*(#.*)?$", config_file.read_text("utf-8"), re.MULTILINE)
    return m.group(1).strip("'\"") if m else None
