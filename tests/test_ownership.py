"""The build owns only what it made (generator/pipeline/outputs.py, generator/pipeline/build.py).

Hostile ``[output]`` settings must exit 2 with one line naming the field, before anything is written:
the repository's sources, ``.git`` and any outside directory stay byte-identical. Generated files are
deleted only when the build's manifest lists them; stray files are neither deleted nor published.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import cli
from generator.common.paths import ROOT
from generator.pipeline.outputs import MANIFEST, MARKER, Manifest

sys.path.insert(0, str(Path(__file__).parent))
from sitebuild import write_config

# What must never change: everything of the repository but its generated directories and caches.
_GENERATED = {".venv", ".cache", "__pycache__", ".pytest_cache", "test-artifacts", "bench"}


def repo_digest() -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(ROOT):
        here = Path(dirpath)
        rel = here.relative_to(ROOT).as_posix()
        dirnames[:] = sorted(
            d for d in dirnames if d not in _GENERATED and f"{rel}/{d}".lstrip("./") not in ("site/docs", "site/public")
        )
        dirnames[:] = [d for d in dirnames if not d.startswith(".public-")]
        for name in sorted(filenames):
            p = here / name
            h.update(p.relative_to(ROOT).as_posix().encode() + b"\0")
            if not p.is_symlink():
                h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def dir_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode() + b"\0")
        if p.is_file() and not p.is_symlink():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def victim(tmp_path):
    """A directory the build does not own, with content."""
    v = tmp_path / "victim"
    (v / "sub").mkdir(parents=True)
    (v / "precious.txt").write_text("do not delete\n")
    (v / "sub" / "notes.ko.md").write_text("# 노트\n")
    return v


def config_with(tmp_path: Path, **output) -> Path:
    cfg = write_config(tmp_path / "run")
    text = cfg.read_text()
    for key, value in output.items():
        lines = [ln for ln in text.splitlines() if not ln.startswith(f"{key} =")]
        i = lines.index("[output]")
        lines.insert(i + 1, f"{key} = {json.dumps(str(value))}")
        text = "\n".join(lines) + "\n"
    cfg.write_text(text)
    return cfg


def run_cli(args, capsys) -> tuple[int, list[str]]:
    code = cli.main(args)
    err = capsys.readouterr()
    return code, err.err.strip().splitlines() + err.out.strip().splitlines()


HOSTILE = [
    # (id, {field: value or callable(tmp_path, victim) -> value}, field in the message, fragment)
    ("public-templates", {"public_dir": "templates"}, "output.public_dir", "templates"),
    ("public-dot", {"public_dir": "."}, "output.public_dir", "contains the repository"),
    ("public-parent", {"public_dir": ".."}, "output.public_dir", "contains the repository"),
    ("public-outside-victim", {"public_dir": lambda t, v: v}, "output.public_dir", "not made by initlab"),
    ("public-etc", {"public_dir": "../../../../../../etc"}, "output.public_dir", "not made by initlab"),
    ("public-root", {"public_dir": "/"}, "output.public_dir", "contains the repository"),
    ("public-git", {"public_dir": ".git"}, "output.public_dir", ".git"),
    ("public-in-generator", {"public_dir": "generator/html"}, "output.public_dir", "generator"),
    ("public-site-assets", {"public_dir": "site/assets"}, "output.public_dir", "site/assets"),
    ("public-is-a-file", {"public_dir": lambda t, v: v / "precious.txt"}, "output.public_dir", "is a file"),
    ("docs-site", {"docs_dir": "site"}, "output.docs_dir", "contains the source path site/assets"),
    ("docs-dot", {"docs_dir": "."}, "output.docs_dir", "contains the repository"),
    ("docs-templates", {"docs_dir": "templates"}, "output.docs_dir", "templates"),
    ("docs-overrides", {"docs_dir": "site/overrides"}, "output.docs_dir", "site/overrides"),
    ("docs-victim-subdir", {"docs_dir": lambda t, v: v / "sub"}, "output.docs_dir", "not made by initlab"),
    ("docs-tests", {"docs_dir": "tests/docs"}, "output.docs_dir", "tests"),
    ("docs-notebooks", {"docs_dir": "notebooks"}, "output.docs_dir", "is the source path notebooks"),
    ("cache-public", {"cache_dir": "site/public", "public_dir": "site/public"}, "output.", "overlaps"),
    ("cache-in-docs", {"cache_dir": lambda t, v: t / "run" / "docs" / "cache"}, "output.", "overlaps"),
    (
        "docs-equals-public",
        {"docs_dir": lambda t, v: t / "same", "public_dir": lambda t, v: t / "same"},
        "output.",
        "overlaps",
    ),
    ("cache-git", {"cache_dir": ".git/initlab"}, "output.cache_dir", ".git"),
    ("cache-victim", {"cache_dir": lambda t, v: v}, "output.cache_dir", "not made by initlab"),
    (
        "public-symlink-to-templates",
        {"public_dir": lambda t, v: _link(t / "link", ROOT / "templates")},
        "output.public_dir",
        "templates",
    ),
    (
        "docs-symlink-to-victim",
        {"docs_dir": lambda t, v: _link(t / "dlink", v)},
        "output.docs_dir",
        "not made by initlab",
    ),
]


def _link(link: Path, target: Path) -> Path:
    link.symlink_to(target, target_is_directory=True)
    return link


@pytest.mark.parametrize("case_id,fields,field,fragment", HOSTILE, ids=[c[0] for c in HOSTILE])
@pytest.mark.parametrize("stage", ["site", "render"])
def test_hostile_output_dir_exits_2_and_touches_nothing(
    tmp_path, victim, capsys, case_id, fields, field, fragment, stage
):
    values = {k: (v(tmp_path, victim) if callable(v) else v) for k, v in fields.items()}
    cfg = config_with(tmp_path, **values)
    before_repo, before_victim = repo_digest(), dir_digest(victim)
    before_tmp = sorted(p.name for p in tmp_path.iterdir())
    code, lines = run_cli([stage, "--config", str(cfg), "--quiet"], capsys)
    assert code == 2, lines
    assert len(lines) == 1 and len(lines[0]) <= 300, lines
    assert lines[0].startswith(f"config error: {field}"), lines[0]
    assert fragment in lines[0], lines[0]
    assert repo_digest() == before_repo
    assert dir_digest(victim) == before_victim
    assert sorted(p.name for p in tmp_path.iterdir()) == before_tmp  # no output directory was created
    assert not (tmp_path / "run" / "docs").exists()


def test_new_and_empty_output_dirs_are_claimed(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = config_with(tmp_path, docs_dir=empty, public_dir=tmp_path / "new" / "public")
    code, lines = run_cli(["build", "--config", str(cfg), "--quiet"], capsys)
    # an empty docs dir does not build (exit 1), but only after the directories were claimed
    assert code == 1, lines
    assert (empty / MARKER).is_file()
    # a marked directory is accepted the next time, even though it is no longer empty
    code, lines = run_cli(["build", "--config", str(cfg), "--quiet"], capsys)
    assert code == 1 and not any("not made by initlab" in ln for ln in lines), lines


def test_manifest_deletes_only_what_it_listed(tmp_path):
    docs = tmp_path / "docs"
    (docs / "figures").mkdir(parents=True)
    made = docs / "figures" / "old.ko.svg"
    stray = docs / "figures" / "mine.ko.svg"
    outside = tmp_path / "outside.txt"
    for p in (made, stray, outside):
        p.write_text("x")
    m = Manifest(docs)
    m.record("figures", [made])
    # a hand-edited manifest naming a file outside docs_dir, or another stage's file, is not obeyed
    raw = json.loads((docs / MANIFEST).read_text())
    raw["stages"]["figures"].append("../outside.txt")
    (docs / MANIFEST).write_text(json.dumps(raw))
    removed = Manifest(docs).remove_stale("figures", keep=[])
    assert removed == ["figures/old.ko.svg"]
    assert not made.exists() and stray.exists() and outside.exists()


def test_corrupt_manifest_deletes_nothing(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.ko.md").write_text("x")
    (docs / MANIFEST).write_text("{not json")
    assert Manifest(docs).remove_stale("render", keep=[]) == []
    assert (docs / "a.ko.md").exists()


@pytest.fixture(scope="module")
def built(cli_site, tmp_path_factory):
    """A reduced site built through the CLI (subprocess), reused by the tests below: a copy of the session's
    clean ``site`` run (tests/conftest.py ``cli_site``; copied, so the tests below may change it), its
    config rewritten to the copy's paths."""
    assert cli_site.proc.returncode == 0, cli_site.proc.stderr
    root = tmp_path_factory.mktemp("owned") / "site"
    shutil.copytree(cli_site.root, root, symlinks=True)
    cfg = write_config(root)
    return root, cfg


def _site(cfg: Path, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "generator", "site", "--config", str(cfg), "--quiet", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_stray_files_are_kept_but_never_published(built):
    root, cfg = built
    docs, public = root / "docs", root / "public"
    strays = [
        docs / "data" / "stray.csv",
        docs / "figures" / "evil.ko.svg",
        docs / "notes.ko.md",
        docs / "assets" / "x.js",
    ]
    for p in strays:
        p.write_text("<script>alert(1)</script>\n")
    try:
        out = _site(cfg)
        assert out.returncode == 0, out.stderr
        for p in strays:
            assert p.exists(), p  # not ours: not deleted
            rel = p.relative_to(docs)
            assert not (public / rel).exists(), rel
        assert not list(public.rglob("stray.csv")) and not list(public.rglob("evil*"))
        assert not (public / "notes").exists()
        assert (public / MARKER).is_file()
    finally:
        for p in strays:
            p.unlink(missing_ok=True)


def test_debris_of_a_crash_is_swept_and_ignored(built):
    root, cfg = built
    docs, cache = root / "docs", root / "cache"
    legacy = docs / ".figures-abc123"  # left by a killed build of an older version
    legacy.mkdir()
    (legacy / "only.ko.svg").write_text("<svg/>")
    scratch = cache / "tmp" / "figures-xyz"
    scratch.mkdir(parents=True)
    (scratch / "half.en.svg").write_text("<svg")
    public_debris = root / ".public-killed1"  # a killed mkdocs build: marked, so swept
    public_debris.mkdir()
    (public_debris / MARKER).write_text("initlab public_dir\n")
    foreign = root / ".public-not-ours"  # someone else's folder: never swept
    foreign.mkdir()
    (foreign / "keep.txt").write_text("keep")
    (docs / "index.ko.md").write_text("edited")  # forces a rebuild past the site stamp
    out = _site(cfg)
    assert out.returncode == 0, out.stderr
    assert not legacy.exists() and not scratch.exists() and not public_debris.exists()
    assert (foreign / "keep.txt").read_text() == "keep"
    assert not (cache / "tmp").exists() or not any((cache / "tmp").iterdir())


def test_tampered_training_figure_in_cache_is_not_published(built):
    root, cfg = built
    cache, public = root / "cache", root / "public"
    # training figures are cached like every figure: one store entry per (figure, language), its
    # sidecar <key>.json beside the <key>.svg
    original = (root / "docs" / "figures" / "training_init.ko.svg").read_bytes()
    cached = [p for p in sorted((cache / "figures").rglob("*.svg")) if p.read_bytes() == original]
    assert cached and all(p.with_suffix(".json").is_file() for p in cached), "cached with sidecars"
    victim_svg = cached[0]
    victim_svg.write_bytes(original.replace(b"</svg>", b"<script>alert(1)</script></svg>"))
    (root / "docs" / "index.en.md").write_text("edited")  # past the site stamp
    out = _site(cfg)
    assert out.returncode == 0, out.stderr
    stem = "training_init"  # the i18n plugin publishes x.ko.svg as figures/x.svg
    published = list(public.rglob(f"{stem}.svg"))
    assert published and all(b"<script>" not in p.read_bytes() for p in published)
    assert b"<script>" not in victim_svg.read_bytes()  # the entry was re-rendered


def test_foreign_public_dir_is_never_replaced_by_build_site(tmp_path):
    from generator.pipeline.build import BuildError, build_site

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.ko.md").write_text("# 홈\n")
    (docs / "index.en.md").write_text("# Home\n")
    public = tmp_path / "public"
    public.mkdir()
    (public / "mine.txt").write_text("mine")
    with pytest.raises(BuildError, match="not made by initlab"):
        build_site(public_dir=public, docs_dir=docs, epoch=1700000000)
    assert (public / "mine.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "public"]
