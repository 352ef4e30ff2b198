"""Repository links (generator/pipeline/links.py), the code behind each page (generator/pages/sources.py),
the per-language search index (generator/pipeline/search_split.py) and the shipped math font: no
browser, no site build."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from generator.common.languages import LANGUAGES
from generator.common.paths import ROOT
from generator.pages.registry import PAGES
from generator.pages.sources import COMPUTED_BY, page_sources
from generator.pipeline import links
from generator.pipeline.search_split import split_search_index


@pytest.fixture
def no_env(monkeypatch):
    for name in ("INITLAB_REPO_URL", "INITLAB_REPO_REF", "INITLAB_SOURCE_NOTE_URL"):
        monkeypatch.delenv(name, raising=False)


def _git_repo(path: Path, remote: str | None) -> str:
    """A one-commit repository at ``path`` with ``origin`` set to ``remote``; returns its HEAD."""

    def git(*args):
        return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True, text=True).stdout

    path.mkdir()
    git("init", "-q")
    (path / "f.txt").write_text("x")
    git("add", "f.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    if remote:
        git("remote", "add", "origin", remote)
    return git("rev-parse", "HEAD").strip()


# ------------------------------------------------------------------------------------------------
# the code behind each page


def test_every_page_has_sources_and_every_path_exists():
    assert set(COMPUTED_BY) == set(PAGES), "generator/pages/sources.py must name the sources of every page"
    for page in PAGES:
        paths = page_sources(page)
        assert paths[0] == f"generator/pages/{page}.py"
        assert {f"templates/pages/{page}.{lang}.md.j2" for lang in LANGUAGES} <= set(paths)
        assert len(paths) == len(set(paths)), page
        missing = [p for p in paths if not (ROOT / p).is_file()]
        assert not missing, f"{page}: no such files {missing}"


# ------------------------------------------------------------------------------------------------
# which repository, which ref


@pytest.mark.parametrize(
    ("remote", "want"),
    [
        ("git@github.com:owner/repo.git", "https://github.com/owner/repo"),
        ("https://github.com/owner/repo.git", "https://github.com/owner/repo"),
        ("https://github.com/owner/re.po/", "https://github.com/owner/re.po"),
        ("ssh://git@github.com/owner/repo", "https://github.com/owner/repo"),
        ("https://gitlab.com/owner/repo.git", None),
        ("/srv/git/repo.git", None),
        ("", None),
        (None, None),
    ],
)
def test_github_url(remote, want):
    assert links.github_url(remote) == want


def test_repo_from_origin_env_or_nothing(tmp_path, monkeypatch, no_env):
    head = _git_repo(tmp_path / "gh", "git@github.com:someone/initlab.git")
    assert links.repo_link(repo=tmp_path / "gh") == links.RepoLink("https://github.com/someone/initlab", head)
    other = _git_repo(tmp_path / "gl", "https://gitlab.com/someone/initlab.git")
    assert links.repo_link(repo=tmp_path / "gl").url is None  # not GitHub: no invented address
    assert links.repo_link(repo=tmp_path / "gl").ref == other
    monkeypatch.setenv("INITLAB_REPO_URL", "https://github.com/env/site/")
    monkeypatch.setenv("INITLAB_REPO_REF", "v1.0")
    assert links.repo_link(repo=tmp_path / "gl") == links.RepoLink("https://github.com/env/site", "v1.0")
    assert links.repo_link("https://github.com/cli/x", repo=tmp_path / "gl").url == "https://github.com/cli/x"
    monkeypatch.setenv("INITLAB_REPO_URL", "")  # explicitly none, even with a GitHub origin
    assert links.repo_link(repo=tmp_path / "gh").url is None
    with pytest.raises(ValueError, match="http"):
        links.repo_link("javascript:alert(1)", repo=tmp_path / "gh")


def test_link_settings_with_and_without_a_repository():
    ref = "0123456789abcdef0123456789abcdef01234567"
    with_repo = links.link_settings(links.RepoLink("https://github.com/o/r", ref))
    assert with_repo["repo_url"] == "https://github.com/o/r" and with_repo["repo_name"] == "o/r"
    template = with_repo["edit_uri_template"]
    assert template == f"blob/{ref}/templates/pages/{{path_noext}}.md.j2"
    for page in PAGES:  # static-i18n's source names are <page>.<lang>.md: the edit link is the template
        for lang in LANGUAGES:
            path = template.format(path_noext=f"{page}.{lang}").split("/", 2)[2]
            assert (ROOT / path).is_file(), path
    code = with_repo["extra"]["initlab_code"]
    assert code["blob"] == f"https://github.com/o/r/blob/{ref}/"
    assert code["pages"] == {p: list(page_sources(p)) for p in PAGES}
    for lang in LANGUAGES:
        assert ref[:12] in code["labels"][lang]["note"] and ref not in code["labels"][lang]["note"]

    without = links.link_settings(links.RepoLink(None, ref))
    assert not {"repo_url", "repo_name", "edit_uri_template"} & set(without)
    assert without["extra"]["initlab_code"]["blob"] is None
    assert all("INITLAB_REPO_URL" in without["extra"]["initlab_code"]["labels"][lang]["note"] for lang in LANGUAGES)


def test_repository_and_ref_enter_the_site_stamp(tmp_path, monkeypatch, no_env):
    from generator.config.load import OutputConfig, load_config
    from generator.pipeline.stamp import SiteStamp

    cfg = load_config(ROOT / "configs" / "small.toml")
    cfg.sections["output"] = OutputConfig(
        docs_dir=str(tmp_path / "d"), public_dir=str(tmp_path / "p"), cache_dir=str(tmp_path / "c")
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    keys = [SiteStamp.for_build(cfg).key]
    for name, value in (
        ("INITLAB_REPO_URL", "https://github.com/a/b"),
        ("INITLAB_REPO_REF", "main"),
        ("INITLAB_SOURCE_NOTE_URL", "https://example.org/post"),
    ):
        monkeypatch.setenv(name, value)
        keys.append(SiteStamp.for_build(cfg).key)
    keys.append(SiteStamp.for_build(cfg, repo_url="https://github.com/c/d").key)
    assert len(set(keys)) == len(keys), "each link input must change the stamp"
    assert SiteStamp.for_build(cfg, repo_url="https://github.com/c/d").key == keys[-1]  # and nothing else


# ------------------------------------------------------------------------------------------------
# search index per language


def test_search_index_split_by_language(tmp_path):
    config = {"lang": ["ko", "en"], "separator": r"[\s]+|(?<=[A-Za-z])(?=[가-힣])", "pipeline": ["stopWordFilter"]}
    docs = [
        {"location": "", "title": "홈", "text": "초기화"},
        {"location": "he/#fan", "title": "He", "text": "fan_in 분산"},
        {"location": "en/", "title": "Home", "text": "init"},
        {"location": "en/he/#fan", "title": "He", "text": "fan_in variance"},
        {"location": "english/", "title": "a Korean page whose name starts with en", "text": ""},
    ]
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "search_index.json").write_text(json.dumps({"config": config, "docs": docs}))
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "index.html").write_text("<html></html>")
    assert split_search_index(tmp_path, ("ko", "en")) == {"ko": 3, "en": 2}
    ko = json.loads((tmp_path / "search" / "search_index.json").read_text())
    en = json.loads((tmp_path / "en" / "search" / "search_index.json").read_text())
    assert ko["config"] == en["config"] == config  # Korean tokenisation kept in both
    assert [d["location"] for d in ko["docs"]] == ["", "he/#fan", "english/"]
    assert [d["location"] for d in en["docs"]] == ["", "he/#fan"]
    assert en["docs"][1]["text"] == "fan_in variance"
    assert split_search_index(tmp_path / "nothing", ("ko", "en")) == {}


# ------------------------------------------------------------------------------------------------
# the math font


def _woff2_tables(data: bytes) -> list[str]:
    """Table tags of a WOFF2 file from its table directory (WOFF2 spec 5.2; no brotli needed)."""
    from fontTools.ttLib.woff2 import woff2KnownTags

    def base128(pos):
        value = 0
        for i in range(5):
            byte = data[pos + i]
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                return value, pos + i + 1
        raise ValueError("bad UIntBase128")

    count, pos, tags = int.from_bytes(data[12:14], "big"), 48, []
    for _ in range(count):
        flags, pos = data[pos], pos + 1
        if flags & 0x3F == 0x3F:
            tag, pos = data[pos : pos + 4].decode("latin-1"), pos + 4
        else:
            tag = woff2KnownTags[flags & 0x3F]
        _, pos = base128(pos)  # origLength
        version = flags >> 6
        if (tag in ("glyf", "loca")) == (version == 0):  # transformed: transformLength follows
            _, pos = base128(pos)
        tags.append(tag)
    return tags


def test_math_font_is_shipped_with_its_licence_and_used():
    fonts = ROOT / "site" / "assets" / "fonts"
    woff2 = fonts / "STIXMath-Regular.woff2"
    data = woff2.read_bytes()
    assert data[:4] == b"wOF2", "not a WOFF2 file"
    assert "MATH" in _woff2_tables(data), "no MATH table: the browser could not size operators with it"
    assert "SIL OPEN FONT LICENSE Version 1.1" in (fonts / "OFL.txt").read_text("utf-8")
    source = (fonts / "SOURCE.txt").read_text("utf-8")
    assert "fonts-stix" in source and "1.1.1-4.1" in source
    css = (ROOT / "site" / "assets" / "mathfont.css").read_text("utf-8")
    face = re.search(r'@font-face\s*{[^}]*font-family:\s*"([^"]+)"[^}]*url\("([^"]+)"\)', css)
    assert face and (ROOT / "site" / "assets" / face[2]).resolve() == woff2.resolve()
    assert re.search(r'math\s*{\s*font-family:\s*"' + re.escape(face[1]) + '"', css)
    mkdocs = (ROOT / "site" / "mkdocs.yml").read_text("utf-8")
    extra_css = re.search(r"^extra_css:\n((?:\s+- .*\n)+)", mkdocs, re.MULTILINE)[1]
    listed = re.findall(r"- (\S+)", extra_css)
    assert listed.index("assets/mathfont.css") > listed.index("assets/initlab.css")  # it must win


def test_files_named_on_pages_exist():
    """A repository path a page names in a code span (`generator/engine/layers.py`) must exist; pages
    once named generator/layers.py after it had moved."""
    named = set()
    for template in sorted((ROOT / "templates").rglob("*")):
        if template.is_file() and template.suffix in (".j2", ".toml"):
            named |= set(
                re.findall(
                    r"`((?:generator|templates|site|configs|tests)/[\w./-]+\.(?:py|j2|toml|yml|css|js))`",
                    template.read_text("utf-8"),
                )
            )
    assert named, "no file named on any page: the pattern is stale"
    missing = sorted(p for p in named if "<" not in p and not (ROOT / p).is_file())
    assert not missing, f"pages name files that do not exist: {missing}"


def test_pages_workflow_sets_the_repository():
    workflow = (ROOT / ".github" / "workflows" / "pages.yml").read_text("utf-8")
    assert "INITLAB_REPO_URL: ${{ github.server_url }}/${{ github.repository }}" in workflow


@pytest.mark.parametrize(
    "argv, env, field",
    [
        (["build", "--repo-url", "ftp://x"], {}, "--repo-url"),
        (["build"], {"INITLAB_REPO_URL": "file:///etc"}, "INITLAB_REPO_URL"),
        (["render"], {"INITLAB_SOURCE_NOTE_URL": "javascript:alert(1)"}, "INITLAB_SOURCE_NOTE_URL"),
    ],
)
def test_bad_link_address_is_a_config_error(argv, env, field, monkeypatch, capsys, tmp_path):
    """A bad address exits 2 with one line naming the field and what is valid, before anything is read
    or written (the config named does not even exist)."""
    from generator import cli

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    missing = tmp_path / "never-read.toml"
    assert cli.main([*argv, "--config", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("config error: ") and "valid: an http" in err[0]
    assert err[0].startswith(f"config error: {field}: ")
    assert not missing.exists() and list(tmp_path.iterdir()) == []
