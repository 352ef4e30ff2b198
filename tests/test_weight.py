"""The page-weight report (generator/pipeline/bench_weight.py) on a synthetic public tree whose sizes
are known by construction."""

from __future__ import annotations

from pathlib import Path

from generator.pipeline import bench_weight
from generator.pipeline.bench_weight import numbers, table, weigh


def _write(root: Path, rel: str, data: bytes | int) -> int:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else b"x" * data)
    return path.stat().st_size


def _page(images=(), styles=(), scripts=(), extra="") -> bytes:
    tags = [f'<img src="{s}" alt="">' for s in images]
    tags += [f'<link rel="stylesheet" href="{s}">' for s in styles]
    tags += [f'<script src="{s}"></script>' for s in scripts]
    return f"<html><head></head><body>{''.join(tags)}{extra}</body></html>".encode()


def _site(root: Path) -> dict[str, int]:
    """A two-language tree; returns the size of each file written (the marker included)."""
    s = {}
    s["figures/a.svg"] = _write(root, "figures/a.svg", 100)
    s["figures/big.svg"] = _write(root, "figures/big.svg", 5000)
    s["en/figures/a.svg"] = _write(root, "en/figures/a.svg", 70)
    s["assets/x.css"] = _write(root, "assets/x.css", 50)
    s["assets/y.js"] = _write(root, "assets/y.js", 30)
    s["assets/unlinked.js"] = _write(root, "assets/unlinked.js", 999)
    s["data/d.csv"] = _write(root, "data/d.csv", 10)
    s["search/search_index.json"] = _write(root, "search/search_index.json", 20)
    s["sitemap.xml"] = _write(root, "sitemap.xml", 5)
    s["en/sitemap.xml"] = _write(root, "en/sitemap.xml", 5)
    s[".initlab-output"] = _write(root, ".initlab-output", 7)
    # the same image twice counts once; external, absolute and missing references are not counted
    s["index.html"] = _write(
        root,
        "index.html",
        _page(
            [
                "figures/a.svg",
                "figures/a.svg",
                "https://example.org/x.png",
                "/initlab/figures/big.svg",
                "figures/none.svg",
            ],
            ["assets/x.css"],
            ["assets/y.js"],
            '<a href="figures/big.svg">big</a>',
        ),
    )
    s["seed/index.html"] = _write(
        root, "seed/index.html", _page(["../figures/big.svg", "../figures/a.svg"], ["../assets/x.css"])
    )
    s["404.html"] = _write(root, "404.html", _page())
    s["en/index.html"] = _write(
        root, "en/index.html", _page(["figures/a.svg"], ["../assets/x.css"], ["../assets/y.js"])
    )
    s["en/seed/index.html"] = _write(root, "en/seed/index.html", _page(["../../figures/big.svg"]))
    return s


def test_parts_and_total_add_up_to_the_files_written(tmp_path):
    s = _site(tmp_path)
    w = weigh(tmp_path)
    served = {k: v for k, v in s.items() if not k.startswith(".")}
    en = {k: v for k, v in served.items() if k.startswith("en/")}
    shared = {k: v for k, v in served.items() if k.split("/")[0] in ("assets", "data", "search", "sitemap.xml")}
    ko = {k: v for k, v in served.items() if k not in en and k not in shared}
    assert w.parts == {
        "ko": (len(ko), sum(ko.values())),
        "en": (len(en), sum(en.values())),
        "shared": (len(shared), sum(shared.values())),
    }
    assert w.total == (len(served), sum(served.values()))
    assert sorted(p.path for p in w.pages) == sorted(k for k in served if k.endswith(".html"))


def test_page_weight_counts_html_and_each_image_once(tmp_path):
    s = _site(tmp_path)
    pages = {p.path: p for p in weigh(tmp_path).pages}
    home = pages["index.html"]
    assert home.images == ["figures/a.svg"]
    assert home.page_bytes == s["index.html"] + s["figures/a.svg"]
    assert home.first_visit_bytes == home.page_bytes + s["assets/x.css"] + s["assets/y.js"]
    assert pages["en/index.html"].images == ["en/figures/a.svg"]
    assert pages["404.html"].page_bytes == s["404.html"]


def test_largest_page_per_language(tmp_path):
    s = _site(tmp_path)
    w = weigh(tmp_path)
    ko, en = w.largest("ko"), w.largest("en")
    assert ko.path == "seed/index.html"
    assert ko.page_bytes == s["seed/index.html"] + s["figures/big.svg"] + s["figures/a.svg"]
    assert ko.first_visit_bytes == ko.page_bytes + s["assets/x.css"]
    assert en.path == "en/seed/index.html" and en.lang == "en"
    assert en.page_bytes == s["en/seed/index.html"] + s["figures/big.svg"]
    assert w.largest() is ko


def test_numbers_and_table(tmp_path):
    s = _site(tmp_path)
    w = weigh(tmp_path)
    n = numbers(w)
    assert n["weight_total_bytes"] == sum(v for k, v in s.items() if not k.startswith("."))
    assert n["weight_total_files"] == len(s) - 1
    assert n["weight_ko_bytes"] + n["weight_en_bytes"] + n["weight_shared_bytes"] == n["weight_total_bytes"]
    assert n["weight_largest_page_ko_bytes"] == w.largest("ko").page_bytes
    assert n["weight_largest_page_en_bytes"] == w.largest("en").page_bytes
    text = table(w, "demo")
    assert f"| total | {len(s) - 1:,} | {n['weight_total_bytes']:,} |" in text
    assert f"| ko: seed/index.html (2 images) | {s['seed/index.html']:,} |" in text
    assert f"| {w.largest('en').page_bytes:,} |" in text and "demo" in text


def test_empty_language_has_no_largest_page(tmp_path):
    _write(tmp_path, "index.html", _page())
    n = numbers(weigh(tmp_path))
    assert n["weight_largest_page_en_bytes"] is None and n["weight_en_bytes"] == 0


def test_cli(tmp_path, capsys):
    _site(tmp_path)
    assert bench_weight.main([str(tmp_path)]) == 0
    assert "| largest page |" in capsys.readouterr().out
    assert bench_weight.main([str(tmp_path / "missing")]) == 2


def test_side_by_side_bench_weighs_each_sides_cold_build(tmp_path, monkeypatch):
    """``make bench BASE=...``: each side's numbers carry the weight of the tree its cold build made."""
    from generator.pipeline import bench_compare as bc

    sizes = {}

    def fake_generator(root, command, conf, timer=None):
        if not sizes:  # the cold build writes the tree; the warm and edit builds leave it
            sizes.update(_site(conf.parent / "public"))
        return 4.0, 7.0

    monkeypatch.setattr(bc, "_generator", fake_generator)
    monkeypatch.setattr(bc, "bare_mkdocs", lambda root, docs, out: 1.0)
    out = bc.time_side(bc.ROOT, bc.ROOT / "configs" / "small.toml", peak_gflops=1.0)
    assert out["weight_total_bytes"] == sum(v for k, v in sizes.items() if not k.startswith("."))
    assert out["weight_largest_page_ko_bytes"] == (
        sizes["seed/index.html"] + sizes["figures/big.svg"] + sizes["figures/a.svg"]
    )
    median = {"base": {"weight_total_bytes": 2_000_000}, "this": {"weight_total_bytes": 2_500_000}}
    res = {"base": "f" * 40, "rounds": 1, "median": median, "ratio": {"weight_total_bytes": 1.25}}
    assert "| page weight, total (bytes) | 2,000,000 | 2,500,000 | 1.250 (over +5 %) |" in bc.table(res)
