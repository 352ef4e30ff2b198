"""Which instances of each registered figure the site draws, and their alt text (generator/figures/registry.py).

Contract: the constants name the cases the grid figures show (:data:`SEED_CASES`, :data:`COMPARE_INITS`, ...;
the drawing modules and pages import them from here). A job provider ``jobs_<figure>(axes) -> [params]``
gives the params of every instance a grid needs (``axes``: inits, activations, norms, target_accuracy);
inits/activations not in the grid are skipped, comparison figures keep those present. An alt-text
function ``alt_<figure>(lang, params) -> str`` writes a figure's alt text from the strings catalog
(``fig.*``). No matplotlib here: pages and the pipeline enumerate figures without loading plotting code.
"""

from __future__ import annotations

from generator.analysis.rules import MATCH_TOL, MATCHING
from generator.contract.seed_cases import scale_text
from generator.render import strings

# The instances the grid figures draw (inits/activations not in the grid are skipped).
SEED_CASES = (("small", "tanh"), ("large", "tanh"), ("xavier", "tanh"), ("xavier", "relu"), ("he", "relu"))
# With a normalization only the cases a page shows are drawn (the batchnorm page: small and large tanh);
# the others shipped in both languages and were never referenced (issue 15).
SEED_CASES_NORM = {"bn": (("small", "tanh"), ("large", "tanh"))}
COMPARE_INITS = ("small", "large", "xavier", "he")
COMPARE_ACTIVATIONS = ("tanh", "relu")
GRAD_INITS = ("small", "large", "xavier", "he")
THEORY_INITS = ("small", "large", "xavier", "he")
# phase_chi1: the named inits placed at sigma_b2 = 0 (sigma_w2 from engine.theory.sigma_w2; Glorot/He uniform
# repeat Xavier/He's variance, so they are left out; orthogonal shows the activation's gain).
PHASE_INITS = ("xavier", "he", "orthogonal")
# activation_curves: x range. Sigmoid's slope falls below 1% of its maximum only past |x| ~ 6, so a
# narrower range would hide the saturation the figure is there to show.
CURVE_RANGE = (-8.0, 8.0)
CURVE_X_MAX = f"{CURVE_RANGE[1]:g}"  # as printed in the alt text and caption
# basics_lines: key -> (strings table, inits, activations)
LINE_SETS = {
    "glorot": ("xavier.fig_glorot", ("xavier", "glorot_normal", "glorot_uniform"), ("tanh", "relu")),
    "he": ("he.fig_he", ("xavier", "he", "he_uniform"), ("relu", "leaky_relu", "selu")),
}


def _label(lang: str, group: str, ident: str) -> str:
    return strings.t(lang, f"fig.{group}.{ident}")


def _names(lang: str, group: str, idents) -> str:
    return ", ".join(_label(lang, group, i) for i in idents)


def _present(wanted, have) -> tuple:
    return tuple(x for x in wanted if x in have)


# --- job providers: axes -> [params] -----------------------------------------------------------


def _per_norm(axes: dict, make) -> list[dict]:
    return [p for norm in axes["norms"] for p in make(norm)]


def jobs_seed_case(axes):
    def cases(norm):
        return SEED_CASES if norm == "none" else SEED_CASES_NORM.get(norm, ())

    return _per_norm(
        axes,
        lambda norm: [
            {"init": i, "activation": a, "norm": norm}
            for i, a in cases(norm)
            if i in axes["inits"] and a in axes["activations"]
        ],
    )


def jobs_seed_compare(axes):
    """Without normalization only: the pages show no normalized comparison."""
    inits, acts = _present(COMPARE_INITS, axes["inits"]), _present(COMPARE_ACTIVATIONS, axes["activations"])
    return [{"inits": inits, "activations": acts, "norm": "none"}] if inits and acts and "none" in axes["norms"] else []


def jobs_grad_std(axes):
    inits = _present(GRAD_INITS, axes["inits"])
    return _per_norm(
        axes,
        lambda norm: [
            {"activation": a, "inits": inits, "norm": norm}
            for a in ("tanh", "relu")
            if inits and a in axes["activations"]
        ],
    )


def jobs_theory(axes):
    inits = _present(THEORY_INITS, axes["inits"])  # the theory assumes no BN: norm none only
    return [{"activation": a, "inits": inits} for a in axes["activations"]] if inits and "none" in axes["norms"] else []


def jobs_by_norm(axes):
    return [{"norm": norm} for norm in axes["norms"]]


def jobs_basics_lines(axes):
    out = []
    for key, (_, inits, acts) in LINE_SETS.items():
        i, a = _present(inits, axes["inits"]), _present(acts, axes["activations"])
        if "none" in axes["norms"] and len(i) >= 2 and a:
            out.append({"key": key, "inits": i, "activations": a})
    return out


def jobs_basics_matched(axes):
    pairs = tuple((a, i) for a, i in MATCHING.items() if a in axes["activations"] and i in axes["inits"])
    return [{"matching": pairs}] if pairs and "none" in axes["norms"] else []


def jobs_grad_factors(axes):
    return [{"tol": MATCH_TOL, "norm": "none"}] if "none" in axes["norms"] else []


def jobs_bn_spread(axes):
    norms = _present(("none", "bn", "bn_post"), axes["norms"])
    return [{"norms": norms}] if "none" in norms and "bn" in norms else []  # the batchnorm page's condition


def once(axes):
    return [{}]


def jobs_if_tables(*tables, params=()):
    """One instance when every one of ``tables`` (registry table keys) is present in ``axes["tables"]``:
    the phase page's figures exist only when the stages wrote their files. ``params``: keys of
    ``axes["phase"]`` (the measurement's q0, c0, quadrature points from grid.json) the figure is drawn with,
    so they are in its cache key; none when those are not known."""

    def jobs(axes):
        facts = axes.get("phase") or {}
        if not set(tables) <= set(axes.get("tables") or ()) or not set(params) <= set(facts):
            return []
        return [{k: facts[k] for k in params}]

    return jobs


def jobs_training(axes):
    target = axes.get("target_accuracy")
    return [] if target is None else [{"target_accuracy": target}]


# --- alt text ----------------------------------------------------------------------------------


def alt_seed_case(lang, p):
    return strings.t(
        lang,
        "fig.seed_case.alt",
        init=_label(lang, "init", p["init"]),
        activation=_label(lang, "activation", p["activation"]),
        norm=_label(lang, "norm", p.get("norm", "none")),
    )


def alt_seed_compare(lang, p):
    return strings.t(
        lang,
        "fig.seed_compare.alt",
        inits=_names(lang, "init", p.get("inits", COMPARE_INITS)),
        activations=_names(lang, "activation", p.get("activations", COMPARE_ACTIVATIONS)),
    )


def alt_grad(lang, p):
    return strings.t(
        lang,
        "fig.grad_std.alt",
        activation=_label(lang, "activation", p["activation"]),
        norm=_label(lang, "norm", p.get("norm", "none")),
        inits=_names(lang, "init", p.get("inits", GRAD_INITS)),
    )


def alt_theory(lang, p):
    return strings.t(
        lang,
        "fig.theory.alt",
        activation=_label(lang, "activation", p["activation"]),
        inits=_names(lang, "init", p.get("inits", THEORY_INITS)),
    )


def alt_heatmap(key):
    return lambda lang, p: strings.t(lang, f"fig.{key}.alt", norm=_label(lang, "norm", p.get("norm", "none")))


def alt_lines(lang, p):
    table, d_inits, d_acts = LINE_SETS[p["key"]]
    return strings.t(
        lang,
        f"{table}.alt",
        inits=_names(lang, "init", p.get("inits", d_inits)),
        activations=_names(lang, "activation", p.get("activations", d_acts)),
    )


def alt_key(key, **fmt):
    return lambda lang, p: strings.t(lang, key, **fmt)


def alt_seed_rerun(lang, p):
    scales = {k: scale_text(f"{k}_tanh") for k in ("small", "large")}
    return strings.t(lang, "seed_page.fig.seed_rerun.alt", **scales)
