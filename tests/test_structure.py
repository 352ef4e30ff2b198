"""Site structure (issue 15 item 9): the navigation in sections, the takeaway box after every H1, and
the "what to use" page (``guide``) whose answers come from generator/analysis/recommend.py.

* nav: the registry's sections in both languages, every page once, in the registry's order; section
  titles translated by static-i18n's nav_translations; a page in no section is an error;
* recommend: the rules on synthetic health labels and claims (a changed label changes the answer);
* guide: every link of the page points to an anchor its target page writes, every answer row carries
  a link, and the rendered answers follow the synthetic labels;
* takeaway: every page template opens with the takeaway box right after its H1, in both languages.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from generator.common.languages import LANGUAGES
from generator.pages import registry
from generator.render import strings

REPO = Path(__file__).resolve().parent.parent
PAGES_DIR = REPO / "templates" / "pages"


# ------------------------------------------------------------------------------------------------
# navigation


def _flat(nav) -> list[str]:
    out = []
    for item in nav:
        out.extend(child[0] for child in item[2]) if len(item) == 3 else out.append(item[0])
    return out


def test_every_page_is_in_exactly_one_section_in_site_order():
    placed = [p for _, pages in registry.SECTIONS for p in pages]
    assert sorted(placed) == sorted(registry.PAGES) and len(placed) == len(set(placed))
    assert list(registry.PAGES) == placed  # the site order is the sections' order
    assert registry.SECTIONS[0][0] is None and {"index", "guide", "conclusions"} <= set(registry.SECTIONS[0][1])
    assert all(isinstance(name, str) and pages for name, pages in registry.SECTIONS[1:])


def test_site_nav_has_the_sections_in_both_languages_and_every_page_once():
    from generator.pipeline.nav import site_nav

    nav = site_nav()
    assert _flat(nav) == list(registry.PAGES)
    sections = [item for item in nav if len(item) == 3]
    assert [s[0] for s in sections] == [name for name, _ in registry.SECTIONS[1:]]
    for name, titles, children in sections:
        for lang in LANGUAGES:
            assert titles[lang] == strings.t(lang, f"nav_section.{name}") and titles[lang].strip()
        assert [c[0] for c in children] == list(dict(registry.SECTIONS)[name])
    assert site_nav() == nav  # stable


def test_nav_settings_nest_sections_and_translate_their_titles():
    from generator.pipeline.nav import nav_settings, site_nav

    nav = site_nav()
    settings = nav_settings(REPO / "site" / "mkdocs.yml", nav)
    ko = {item[0]: item[1]["ko"] for item in nav}
    entries = settings["nav"]
    assert entries[0] == {strings.t("ko", "nav.index"): "index.md"}
    section = next(e for e in entries if strings.t("ko", "nav_section.basics") in e)
    assert section[strings.t("ko", "nav_section.basics")] == [
        {strings.t("ko", f"nav.{p}"): f"{p}.md"} for p in dict(registry.SECTIONS)["basics"]
    ]
    en = next(lg for lg in settings["plugins"][1]["i18n"]["languages"] if lg["locale"] == "en")["nav_translations"]
    for name, _ in registry.SECTIONS[1:]:
        assert en[strings.t("ko", f"nav_section.{name}")] == strings.t("en", f"nav_section.{name}")
    assert en[ko["guide"]] == strings.t("en", "nav.guide")
    assert len(en) == len(registry.PAGES) + len(registry.SECTIONS) - 1  # every page and section title once


def test_a_page_in_no_section_is_an_error(monkeypatch):
    from generator.pipeline.nav import site_nav

    monkeypatch.setattr("generator.pages.registry.PAGES", registry.PAGES + ("orphan",))
    with pytest.raises(ValueError, match="page\\(s\\) in no nav section: orphan"):
        site_nav()


def test_a_section_whose_pages_are_absent_is_dropped(monkeypatch):
    from generator.pipeline.nav import site_nav

    monkeypatch.setattr("generator.pages.registry.PAGES", ("index", "results"))
    nav = site_nav()
    assert [item[0] for item in nav] == ["index", "method"] and _flat(nav) == ["index", "results"]


def test_a_section_title_equal_to_a_page_title_is_refused():
    from generator.pipeline.nav import nav_settings

    nav = [
        ("index", {"ko": "홈", "en": "Home"}),
        ("s", {"ko": "홈", "en": "Start"}, [("results", {"ko": "결과", "en": "R"})]),
    ]
    with pytest.raises(ValueError, match="share the nav title '홈'"):
        nav_settings(REPO / "site" / "mkdocs.yml", nav)


# ------------------------------------------------------------------------------------------------
# recommend: the rules on synthetic inputs


def _health(rows) -> pd.DataFrame:
    """health.csv-like rows: (init, activation, norm, forward, backward, stability)."""
    return pd.DataFrame(
        [
            {
                "init": i,
                "activation": a,
                "norm": n,
                "forward": f,
                "backward": b,
                "healthy": f == "ok" and b == "ok",
                "stability": s,
            }
            for i, a, n, f, b, s in rows
        ]
    )


BASE = [
    ("xavier", "tanh", "none", "ok", "ok", "stable"),
    ("he", "tanh", "none", "ok", "vanishes", "stable"),
    ("xavier", "relu", "none", "vanishes", "vanishes", "stable"),
    ("he", "relu", "none", "ok", "ok", "unstable"),
    ("xavier", "sigmoid", "none", "ok", "vanishes", "stable"),
    ("small", "gelu", "none", "vanishes", "vanishes", "stable"),
    ("xavier", "tanh", "bn", "ok", "ok", "stable"),
]


def test_init_choices_follow_the_health_labels():
    from generator.analysis.recommend import init_choices

    regimes = pd.DataFrame([{"init": "xavier", "activation": "tanh", "regime": "critical"}])
    rows = {r["activation"]: r for r in init_choices(_health(BASE), "none", regimes)}
    assert list(rows) == ["tanh", "relu", "sigmoid", "gelu"]
    assert rows["tanh"]["status"] == "recommended" and rows["tanh"]["inits"] == ["xavier"]
    assert rows["tanh"]["regimes"] == {"xavier": "critical"}
    assert rows["relu"]["status"] == "inconclusive" and rows["relu"]["unstable"] == ["he"] and not rows["relu"]["inits"]
    assert rows["sigmoid"]["status"] == "forward_only" and rows["sigmoid"]["forward_only"] == ["xavier"]
    assert rows["gelu"]["status"] == "none" and rows["gelu"]["n_inits"] == 1
    assert [r["activation"] for r in init_choices(_health(BASE), "bn")] == ["tanh"]


def test_a_changed_label_changes_the_recommendation():
    from generator.analysis.recommend import init_choices

    changed = [r if r[:2] != ("he", "tanh") else ("he", "tanh", "none", "ok", "ok", "stable") for r in BASE]
    before = init_choices(_health(BASE), "none")[0]
    after = init_choices(_health(changed), "none")[0]
    assert before["inits"] == ["xavier"] and after["inits"] == ["xavier", "he"]
    worse = [
        r if r[:2] != ("xavier", "tanh") or r[2] != "none" else ("xavier", "tanh", "none", "saturates", "ok", "stable")
        for r in BASE
    ]
    row = init_choices(_health(worse), "none")[0]
    assert row["status"] == "forward_only" and row["forward_only"] == ["he"]


def _claims(**verdicts) -> dict:
    return {
        cid: {"verdict": v, "verdict_a": v, "verdict_b": "inconclusive" if cid == "vanishing" else v}
        for cid, v in verdicts.items()
    }


def test_training_answers_follow_the_verdicts():
    from generator.analysis.recommend import ADVICE, QUESTIONS, training_answers

    claims = _claims(speed="holds", init="partly", vanishing="partly", overfitting="inconclusive", mean="does_not_hold")
    rows = training_answers(claims)
    assert [r["question"] for r in rows] == list(QUESTIONS)
    assert {r["claim"]: r["advice"] for r in rows} == {
        "speed": "use",
        "init": "consider",
        "vanishing": "consider",
        "overfitting": "unproven",
        "mean": "no_gain",
    }
    assert {r["claim"]: r["stable"] for r in rows}["vanishing"] is False
    assert set(ADVICE) == {"holds", "partly", "inconclusive", "does_not_hold"}
    assert [r["claim"] for r in training_answers({"mean": claims["mean"]})] == ["mean"]


def test_learning_rates_keep_missing_values_missing():
    from generator.analysis.recommend import learning_rates

    lr = learning_rates(
        [
            {"norm": "none", "best_lr": 0.1, "max_stable_lr": math.nan},
            {"norm": "bn", "best_lr": 1.0, "max_stable_lr": 3.0},
        ]
    )
    assert lr["bn"] == {"best_lr": 1.0, "max_stable_lr": 3.0} and math.isnan(lr["none"]["max_stable_lr"])


# ------------------------------------------------------------------------------------------------
# the guide page: links to existing anchors, a link on every row


def _anchors(page: str, lang: str) -> set[str]:
    """The ids a page template writes: ``{ #x }`` headings, and ``tbl-x`` / ``fig-x`` of its macros."""
    text = (PAGES_DIR / f"{page}.{lang}.md.j2").read_text("utf-8")
    ids = set(re.findall(r"\{ #([\w-]+) \}", text))
    ids |= {f"tbl-{n}" for n in re.findall(r"m\.table\([^\n]*?,\s*\"([\w-]+)\"", text)}
    ids |= {f"fig-{n}" for n in re.findall(r"m\.figure\(\"([\w-]+)\"", text)}
    return ids


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_guide_link_points_to_an_anchor_of_its_page(lang):
    from generator.pages.guide import LINKS

    for key, target in LINKS.items():
        page, anchor = target.split(".md#")
        assert page in registry.PAGES, key
        assert anchor in _anchors(page, lang), f"{key}: {target} has no anchor on {page}.{lang}"


def test_the_anchor_scanner_sees_a_missing_anchor():
    assert "tbl-glance" in _anchors("index", "ko") and "no-such-anchor" not in _anchors("index", "ko")


def _guide_context(health: pd.DataFrame, claims: dict) -> dict:
    """The guide's context (generator.pages.guide.guide_context) from synthetic inputs."""
    from generator.pages.guide import guide_context

    lr = [{"norm": "none", "best_lr": 0.1, "max_stable_lr": 0.3}, {"norm": "bn", "best_lr": 1.0, "max_stable_lr": 3.0}]
    return guide_context(health, None, claims, lr)


def _render_guide(tmp_path, ctx: dict) -> dict[str, str]:
    from generator.pipeline.render_stage import render_pages

    render_pages(
        {"pages": {"guide": ctx}, "page_order": list(registry.PAGES), "config": {}, "data_dictionary": {}},
        tmp_path,
        ["guide"],
    )
    return {lang: (tmp_path / f"guide.{lang}.md").read_text("utf-8") for lang in LANGUAGES}


def _answer_lines(md: str) -> list[str]:
    body = md.split("{ #init }", 1)[1]
    return [line for line in body.splitlines() if line.startswith("- ")]


def test_every_guide_answer_row_has_a_link_and_follows_the_labels(tmp_path):
    from generator.pages.guide import LINKS

    claims = _claims(speed="holds", init="partly", vanishing="partly", overfitting="inconclusive", mean="does_not_hold")
    out = _render_guide(tmp_path / "a", _guide_context(_health(BASE), claims))
    targets = set(LINKS.values())
    for lang, md in out.items():
        lines = _answer_lines(md)
        assert len(lines) == 5 + 5 + 1  # 4 + 1 activation rows, 5 questions, 1 learning-rate row
        for line in lines:
            links = re.findall(r"\]\(([^)]+)\)", line)
            assert links and all(link in targets for link in links), (lang, line)
        assert "!!! success" in md.split("{ #init }", 1)[0]  # the takeaway box before the first section
    assert strings.t("ko", "guide.status.forward_only") in out["ko"]
    changed = [
        r if r[:2] != ("xavier", "sigmoid") else ("xavier", "sigmoid", "none", "ok", "ok", "stable") for r in BASE
    ]
    again = _render_guide(tmp_path / "b", _guide_context(_health(changed), claims))
    sigmoid = {
        lang: next(line for line in _answer_lines(md) if strings.t(lang, "fig.activation.sigmoid") in line)
        for lang, md in again.items()
    }
    for lang, line in sigmoid.items():
        assert strings.t(lang, "guide.status.recommended") in line and strings.t(lang, "fig.init.xavier") in line
    assert again["en"] != out["en"] and again["ko"] != out["ko"]


def test_guide_without_training_data_says_so(tmp_path):
    from generator.pages.guide import guide_context

    ctx = guide_context(_health(BASE))
    assert ctx["training"] == {"available": False} and not ctx["has_theory"]
    out = _render_guide(tmp_path, ctx)
    assert "training.md)" in out["en"] and "guide.advice" not in out["en"]
    assert not any(link in out["en"] for link in ("training.md#speed", "training.md#tbl-training-lr"))


# ------------------------------------------------------------------------------------------------
# takeaway boxes


@pytest.mark.parametrize("page", registry.PAGES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_has_a_takeaway_right_after_its_h1(page, lang):
    text = (PAGES_DIR / f"{page}.{lang}.md.j2").read_text("utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    h1 = next(i for i, line in enumerate(lines) if line.startswith("# "))
    following = lines[h1 + 1 : h1 + 3]
    assert any("m.takeaway()" in line for line in following), f"{page}.{lang}: no takeaway after the H1"
    box = text.split("m.takeaway()", 1)[1].split("{% endcall %}", 1)[0]
    bullets = [line for line in box.splitlines() if line.startswith("- ")]
    assert 2 <= len(bullets) <= 4, (page, lang, len(bullets))
    assert all("](" in b for b in bullets), f"{page}.{lang}: a takeaway bullet without a link"


def test_the_takeaway_macro_renders_a_titled_admonition(tmp_path):
    from generator.render.env import environment

    env = environment()
    for lang in LANGUAGES:
        tpl = env.from_string(
            '{% import "macros/report.j2" as m with context %}'
            "{% call m.takeaway() %}\n- a ([b](#c))\n- d\n{% endcall %}"
        )
        md = tpl.render(lang=lang, t=lambda key, lang=lang, **kw: strings.t_page(lang, key, **kw))
        assert f'!!! success "{strings.t(lang, "takeaway.title")}"' in md
        assert "\n    - a ([b](#c))\n    - d" in md
