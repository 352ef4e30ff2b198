"""One search index per language, split from the single index MkDocs' search plugin writes.

With static-i18n's suffix layout the search plugin writes one lunr index, ``search/search_index.json``,
holding the pages of every language, so an English query ("Glorot") could rank a Korean page first
and a Korean one ("BN") an English page. :func:`split_search_index` rewrites the built site in place:

* ``search/search_index.json`` keeps the default language's documents only;
* ``<lang>/search/search_index.json`` gets the documents whose location starts with ``<lang>/``,
  that prefix removed (locations are relative to the language root), for every other language whose
  root exists in the build.

Every index keeps the plugin's ``config`` unchanged (``lang``, the ``separator`` that splits Hangul
from Latin and digits, the ``pipeline``), so Korean tokenisation is what site/mkdocs.yml says.
site/overrides/main.html points Material's ``base`` at the language root on non-default-language
pages, which is where Material's script fetches the index from and resolves result locations against.
Output is deterministic: the documents keep their order and the JSON is written like the plugin's own
(sorted keys, compact, ASCII).
"""

from __future__ import annotations

import json
from pathlib import Path

INDEX = Path("search") / "search_index.json"


def split_search_index(out_dir: Path, languages: tuple[str, ...]) -> dict[str, int]:
    """Split ``<out_dir>/search/search_index.json`` by language root (``languages[0]`` is the default,
    served from the site root). Returns documents per language; ``{}`` when the site has no index."""
    path = out_dir / INDEX
    if not path.is_file():
        return {}
    index = json.loads(path.read_text("utf-8"))
    others = [lang for lang in languages[1:] if (out_dir / lang / "index.html").is_file()]
    buckets: dict[str, list[dict]] = {lang: [] for lang in (languages[0], *others)}
    for doc in index.get("docs", []):
        location = doc.get("location", "")
        lang = next((x for x in others if location == x or location.startswith(f"{x}/")), languages[0])
        if lang != languages[0]:
            doc = {**doc, "location": location[len(lang) + 1 :]}
        buckets[lang].append(doc)
    for lang, docs in buckets.items():
        target = path if lang == languages[0] else out_dir / lang / INDEX
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({**index, "docs": docs}, sort_keys=True, separators=(",", ":")), "utf-8")
    return {lang: len(docs) for lang, docs in buckets.items()}
