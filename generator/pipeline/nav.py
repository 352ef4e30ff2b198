"""The site navigation as data: MkDocs ``nav`` and static-i18n ``nav_translations`` are generated from
the page registry plus the strings catalog; ``site/mkdocs.yml`` holds neither.

A navigation (:data:`Nav`) is a list of ``(page, {lang: title})`` in site order; ``page`` names
``<page>.md`` in the docs dir (static-i18n's suffix structure: ``<page>.ko.md`` / ``<page>.en.md``).
:func:`site_nav` is the site's: every page of the registry, titled ``t(lang, "nav.<page>")`` in every
language. :func:`generator.pipeline.build.build_site` writes a navigation into the transient child
config (``INHERIT: mkdocs.yml``, :func:`write_child_config`) it builds from, as :func:`nav_settings`
returns it:

* ``nav``: ``- <default-language title>: <page>.md``, in order;
* ``plugins``: the parent's plugin list, with each other i18n language's ``nav_translations`` set to
  ``{<default-language title>: <its title>}`` (replacing any it had). MkDocs' ``INHERIT`` deep-merges
  mappings but *replaces* lists (mergedeep's REPLACE strategy in mkdocs/utils/yaml.py), and
  ``plugins`` is a list, so the child carries the whole list.

The parent is read with a YAML loader that tolerates ``!ENV`` and ``!!python/...`` tags; a plugin
setting that uses one cannot be copied and is a ``ValueError``, as are a page without a title in a
configured language and two pages sharing a default-language title (one translation map per
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

Nav = list[tuple[str, dict[str, str]]]


def site_nav() -> Nav:
    """Every page of the registry, in site order, with its ``nav.<page>`` title in every language."""
    # the page registry; it moves to generator.pages.registry (issue 13)
    from generator.pages.registry import PAGES
    from generator.render.strings import t

    return [(page, {lang: t(lang, f"nav.{page.replace('/', '.')}") for lang in LANGUAGES}) for page in PAGES]


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
        raise ValueError(f"the plugins of {Path(config_file).name} use a YAML tag (!ENV, !!python); "
                         "the generated nav cannot copy them")
    languages = _i18n_languages(plugins)
    locales = [lang["locale"] for lang in languages]
    default = next((lang["locale"] for lang in languages if lang.get("default")), locales[0])
    entries, translations = [], {locale: {} for locale in locales if locale != default}
    for page, titles in nav:
        missing = [locale for locale in locales if not titles.get(locale)]
        if missing:
            raise ValueError(f"page {page!r} has no nav title in {', '.join(missing)}")
        key = titles[default]
        if any(key in entry for entry in entries):
            raise ValueError(f"two pages share the nav title {key!r} ({default})")
        entries.append({key: f"{page}.md"})
        for locale, table in translations.items():
            table[key] = titles[locale]
    for lang in languages:
        if lang["locale"] in translations:
            lang["nav_translations"] = translations[lang["locale"]]
    return {"nav": entries, "plugins": plugins}


def child_config(parent_name: str, settings: dict) -> str:
    """The text of a child config: ``INHERIT: <parent_name>`` (first line) and ``settings``."""
    return yaml.safe_dump({"INHERIT": parent_name, **settings}, allow_unicode=True, sort_keys=False,
                          width=1 << 20)


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
