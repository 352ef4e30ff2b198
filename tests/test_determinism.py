"""Two clean builds of the reduced grid are byte-identical.

Build A is the session's shared site (tests/conftest.py ``site_build``); build B is a second clean
build with its own, empty cache, docs and public dirs at *different absolute paths*, the same
site_url and the same SOURCE_DATE_EPOCH. Every file of the two public trees is compared byte for
byte (and the generated docs trees, to say which stage differs first). A tmp path printed into a
page (e.g. a config path on the reproducibility page) makes the trees differ and is reported.

If someone edits the sources while the test runs (the shared working tree), the comparison is
meaningless: the test is skipped with that reason instead of reporting a false difference.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

import sitebuild

pytestmark = pytest.mark.slow


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def compare_trees(a: Path, b: Path, roots: tuple[Path, Path]) -> list[str]:
    """Differences between two trees, first differing file first (sorted paths)."""
    fa, fb = _files(a), _files(b)
    out = []
    for rel in sorted(set(fa) | set(fb)):
        if rel not in fb:
            out.append(f"{rel}: only in the first build")
        elif rel not in fa:
            out.append(f"{rel}: only in the second build")
        else:
            da, db = fa[rel].read_bytes(), fb[rel].read_bytes()
            if da != db:
                out.append(f"{rel}: contents differ ({len(da)} vs {len(db)} bytes){_explain(da, db, roots)}")
    return out


def _explain(da: bytes, db: bytes, roots: tuple[Path, Path]) -> str:
    leaks = [str(r) for r, d in zip(roots, (da, db)) if str(r).encode() in d]
    note = f"; build path leaked into the output: {leaks}" if leaks else ""
    try:
        ta, tb = da.decode("utf-8"), db.decode("utf-8")
    except UnicodeDecodeError:
        i = next((k for k, (x, y) in enumerate(zip(da, db)) if x != y), min(len(da), len(db)))
        return f"{note}; first differing byte at offset {i}"
    diff = list(difflib.unified_diff(ta.splitlines(), tb.splitlines(), "first", "second", n=0, lineterm=""))
    return note + "\n    " + "\n    ".join(line[:200] for line in diff[2:10])


def test_two_clean_builds_are_byte_identical(site_build, tmp_path):
    a = site_build
    b = sitebuild.build_reduced_site(tmp_path / "second-build", a.site_url, epoch=a.result.source_date_epoch)
    if sitebuild.source_fingerprint() != a.fingerprint:
        pytest.skip("the sources (generator/, templates/, site/, configs/) changed while the builds ran")
    assert a.root != b.root
    roots = (a.root, b.root)
    public = compare_trees(a.public_dir, b.public_dir, roots)
    if public:
        docs = compare_trees(a.docs_dir, b.docs_dir, roots)
        pytest.fail(
            f"the two clean builds differ in {len(public)} public file(s); first: {public[0]}\n\n"
            + "\n".join(public[:15])
            + (
                "\n\ngenerated docs differ too; first: " + docs[0]
                if docs
                else "\n\n(the generated docs trees are identical: the difference comes from mkdocs/the build)"
            ),
            pytrace=False,
        )
    n = len(_files(a.public_dir))
    print(
        f"\n[determinism] {n} files byte-identical across two clean builds "
        f"({a.root} vs {b.root}; second build {sum(b.seconds.values()):.0f}s)"
    )
    assert n > 0
