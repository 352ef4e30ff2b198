"""generator/pipeline/build.py: strict build into a temp dir, atomic swap into public/, nothing left behind.

Each test builds a tiny two-language site with the real site/mkdocs.yml (about half a second).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from generator.pipeline import build, build_fs
from generator.pipeline.build import BuildError, build_site, check_language_parity
from tinysite import HOME_NAV, site_mkdocs_yml

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

SLOW_HOOK = """
import os, time

def on_post_build(config, **kwargs):
    marker = os.environ.get("INITLAB_TEST_MARKER")
    if marker:
        with open(marker, "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(60)
"""


def make_site(root: Path, *, hook: bool = False) -> Path:
    """site/ copy + two pages rendered from strings (no templates needed here)."""
    site = root / "site"
    site.mkdir(parents=True)
    shutil.copytree(REPO / "site" / "overrides", site / "overrides")
    cfg = site_mkdocs_yml()
    if hook:
        (site / "slow_hook.py").write_text(SLOW_HOOK)
        cfg += "\nhooks:\n  - slow_hook.py\n"
    (site / "mkdocs.yml").write_text(cfg, "utf-8")
    docs = site / "docs"
    docs.mkdir()
    (docs / "index.ko.md").write_text("# 홈\n\n가중치 초기화 [데이터](data/x.csv).\n", "utf-8")
    (docs / "index.en.md").write_text("# Home\n\nWeight initialization [data](data/x.csv).\n", "utf-8")
    (docs / "data").mkdir()
    (docs / "data" / "x.csv").write_text("a\n1\n")
    return site


def tree_digest(path: Path) -> dict[str, str]:
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def debris(site: Path) -> list[str]:
    return sorted(p.name for p in site.glob(".public-*"))


def test_build_swaps_in_and_leaves_no_debris(tmp_path):
    site = make_site(tmp_path)
    res = build_site(site, epoch=1700000000, nav=HOME_NAV)  # a nav: a transient child config too
    pub = site / "public"
    assert res.public_dir == pub and (pub / "index.html").is_file() and (pub / "en" / "index.html").is_file()
    assert res.files == len(tree_digest(pub)) and res.seconds > 0 and res.warnings == []
    assert oct(pub.stat().st_mode & 0o777) != oct(0o700)  # mkdtemp's 0700 is not published
    assert debris(site) == []
    # a second build replaces the tree (stale files disappear) and again leaves nothing behind
    (pub / "stale.txt").write_text("old")
    build_site(site, epoch=1700000000, nav=HOME_NAV)
    assert not (pub / "stale.txt").exists() and debris(site) == []
    assert sorted(p.name for p in site.iterdir()) == ["docs", "mkdocs.yml", "overrides", "public"]


def test_site_url_passthrough(tmp_path):
    site = make_site(tmp_path)
    res = build_site(site, site_url="https://example.github.io/repo", epoch=1700000000)
    assert res.site_url == "https://example.github.io/repo/"
    assert "<loc>https://example.github.io/repo/en/</loc>" in (site / "public" / "sitemap.xml").read_text()


def test_docs_dir_and_public_dir_overrides(tmp_path):
    site = make_site(tmp_path)
    other_docs = tmp_path / "elsewhere" / "docs"
    shutil.move(site / "docs", other_docs)
    public = tmp_path / "out" / "public"
    res = build_site(site, public, docs_dir=other_docs, epoch=1700000000, nav=HOME_NAV)
    assert res.public_dir == public and (public / "en" / "index.html").is_file()
    assert "Weight initialization" in (public / "en" / "index.html").read_text("utf-8")
    assert sorted(p.name for p in site.iterdir()) == ["mkdocs.yml", "overrides"]  # transient config gone
    assert debris(public.parent) == []


def test_two_clean_builds_are_byte_identical(tmp_path):
    site = make_site(tmp_path)
    build_site(site, epoch=1700000000)
    first = tree_digest(site / "public")
    shutil.rmtree(site / "public")
    build_site(site, epoch=1700000000)
    assert tree_digest(site / "public") == first
    gz = (site / "public" / "sitemap.xml.gz").read_bytes()
    assert int.from_bytes(gz[4:8], "little") == 1700000000  # gzip header mtime = SOURCE_DATE_EPOCH
    assert gzip.decompress(gz) == (site / "public" / "sitemap.xml").read_bytes()
    assert "search/search_index.json" in first


def test_source_date_epoch_from_environment(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    assert build.source_date_epoch() == 1234567890


def test_failed_build_keeps_previous_site_byte_identical(tmp_path):
    site = make_site(tmp_path)
    build_site(site, epoch=1700000000)
    before = tree_digest(site / "public")
    (site / "docs" / "index.en.md").write_text("# Home\n\n[broken](missing.md)\n", "utf-8")
    with pytest.raises(BuildError) as info:
        build_site(site, epoch=1700000000, nav=HOME_NAV)
    assert "missing.md" in str(info.value) and "WARNING" in info.value.log
    assert tree_digest(site / "public") == before
    assert debris(site) == []


def test_exception_after_mkdocs_keeps_previous_site(tmp_path, monkeypatch):
    site = make_site(tmp_path)
    build_site(site, epoch=1700000000)
    before = tree_digest(site / "public")

    def boom(out_dir, epoch):
        assert (out_dir / "index.html").is_file()  # mkdocs finished; we fail mid-pipeline
        raise RuntimeError("injected failure")

    monkeypatch.setattr(build, "_postprocess", boom)
    with pytest.raises(RuntimeError, match="injected failure"):
        build_site(site, epoch=1700000000)
    assert tree_digest(site / "public") == before
    assert debris(site) == []


def test_keyboard_interrupt_in_process_keeps_previous_site(tmp_path, monkeypatch):
    site = make_site(tmp_path)
    build_site(site, epoch=1700000000)
    before = tree_digest(site / "public")

    def interrupt(new, public):
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "swap_in", interrupt)
    with pytest.raises(KeyboardInterrupt):
        build_site(site, epoch=1700000000, nav=HOME_NAV)
    assert tree_digest(site / "public") == before
    assert debris(site) == []


def test_swap_fallback_without_renameat2(tmp_path, monkeypatch):
    site = make_site(tmp_path)
    build_site(site, epoch=1700000000)
    monkeypatch.setattr(build_fs, "exchange", lambda a, b: False)
    (site / "public" / "stale.txt").write_text("old")
    build_site(site, epoch=1700000000)
    assert not (site / "public" / "stale.txt").exists() and debris(site) == []


def test_leftover_debris_from_a_killed_build_is_swept(tmp_path):
    site = make_site(tmp_path)
    (site / ".public-killed123").mkdir()
    (site / ".public-killed123" / "index.html").write_text("half")
    (site / ".public-killed123" / ".initlab-output").write_text("initlab public_dir\n")  # made at mkdtemp
    (site / ".public-notours").mkdir()  # same prefix, no marker, not empty: someone else's
    (site / ".public-notours" / "keep.txt").write_text("keep")
    (site / ".public-killed.mkdocs.yml").write_text("INHERIT: mkdocs.yml\nnav: []\n")  # a child config
    (site / ".public-theirs.mkdocs.yml").write_text("site_name: x\n")  # not one
    build_site(site, epoch=1700000000)
    assert debris(site) == [".public-notours", ".public-theirs.mkdocs.yml"]


def test_language_parity_preflight(tmp_path):
    site = make_site(tmp_path)
    (site / "docs" / "results.ko.md").write_text("# 결과\n", "utf-8")
    (site / "docs" / "figures").mkdir()
    (site / "docs" / "figures" / "a.en.svg").write_text("<svg/>")
    assert check_language_parity(site / "docs") == [
        "figures/a.en.svg has no figures/a.ko.svg",
        "results.ko.md has no results.en.md",
    ]
    with pytest.raises(BuildError, match=r"results\.ko\.md has no results\.en\.md"):
        build_site(site)
    assert not (site / "public").exists() and debris(site) == []


def test_missing_docs_dir_is_a_clear_error(tmp_path):
    site = make_site(tmp_path)
    shutil.rmtree(site / "docs")
    with pytest.raises(BuildError, match="render the pages first"):
        build_site(site)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_build_keeps_previous_site(tmp_path, sig):
    """A real process running the build gets SIGINT/SIGTERM while mkdocs is writing the new tree."""
    site = make_site(tmp_path, hook=True)
    build_site(site, epoch=1700000000)  # hook is inactive without the marker variable
    before = tree_digest(site / "public")
    marker = tmp_path / "mkdocs-is-busy"
    env = dict(os.environ, INITLAB_TEST_MARKER=str(marker), SOURCE_DATE_EPOCH="1700000000")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator.pipeline.build", "--site-dir", str(site), "--no-nav"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "mkdocs never reached the slow hook"
            time.sleep(0.05)
        mkdocs_pid = int(marker.read_text() or 0)
        assert debris(site), "the new tree should be under construction in a .public-* directory"
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == (130 if sig == signal.SIGINT else 128 + signal.SIGTERM), err
    assert tree_digest(site / "public") == before
    assert debris(site) == []
    if mkdocs_pid:  # the mkdocs child was stopped, not orphaned
        with pytest.raises(ProcessLookupError):
            for _ in range(100):
                os.kill(mkdocs_pid, 0)
                time.sleep(0.05)


def test_cli_reports_build_errors(tmp_path):
    site = make_site(tmp_path)
    (site / "docs" / "index.ko.md").write_text("[x](nope.md)\n", "utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "generator.pipeline.build", "--site-dir", str(site), "--no-nav"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert textwrap.dedent("build error: mkdocs build --strict failed") in proc.stderr
    assert "nope.md" in proc.stderr


def test_cli_builds_with_the_site_nav_unless_told_not_to(tmp_path, monkeypatch):
    from generator.pipeline.nav import site_nav

    seen = []

    def fake_build(*args, **kwargs):
        seen.append(kwargs["nav"])
        raise BuildError("stop here")

    monkeypatch.setattr(build, "build_site", fake_build)
    assert build.main(["--site-dir", str(tmp_path)]) == 1
    assert build.main(["--site-dir", str(tmp_path), "--no-nav"]) == 1
    assert seen == [site_nav(), None] and len(seen[0]) > 1


def test_timeout_is_a_build_error_and_cleans_up(tmp_path, monkeypatch):
    site = make_site(tmp_path, hook=True)
    monkeypatch.setenv("INITLAB_TEST_MARKER", str(tmp_path / "busy"))
    with pytest.raises(BuildError, match=r"did not finish within 1\.5 s"):
        build_site(site, epoch=1700000000, timeout=1.5)
    assert not (site / "public").exists() and debris(site) == []
