"""Configurations worth trying first in the explorer, picked from health.csv by rule (never typed).

:func:`examples` walks the health records in their order (the grid's order: init, then activation,
then norm) and takes the FIRST record that satisfies each rule below; a rule that no record satisfies
gives nothing, and a configuration is picked at most once (the first rule that takes it keeps it).

=============  =====================================================================================
``label_key``  rule
=============  =====================================================================================
``healthy``    no normalization, forward and backward ``ok`` (``healthy``, analysis/health.py)
``vanishes``   no normalization, forward ``vanishes`` with a last-layer std above 0: the signal fades
               layer by layer (an all-zero init, std exactly 0 from layer 1, is the trivial case;
               taken only when no other configuration vanishes)
``diverged``   no normalization, at least one seed diverged (``first_diverged`` is set); when no run
               diverged, ``explodes`` instead: forward label ``explodes``
``bn_rescues`` batch normalization (``bn``) healthy where the same init and activation without it are not
=============  =====================================================================================

The label keys name UI strings (``explorer.example.<label_key>`` in the catalogs); the explorer shows the
picks as links. pandas only (analysis layer: no sentences).
"""

from __future__ import annotations

import math

import pandas as pd

LABEL_KEYS = ("healthy", "vanishes", "diverged", "explodes", "bn_rescues")
NO_NORM, BN = "none", "bn"


def _first(rows: list[dict], pred) -> dict | None:
    return next((r for r in rows if pred(r)), None)


def _diverged(r: dict) -> bool:
    fd = r.get("first_diverged")
    return fd is not None and not (isinstance(fd, float) and math.isnan(fd))


def examples(health: pd.DataFrame) -> list[dict]:
    """``[{"init", "activation", "norm", "label_key"}, ...]`` in the order of :data:`LABEL_KEYS`
    (``explodes`` only when no run diverged); ``health``: health.csv rows (generator/contract/health.py)."""
    rows = health.to_dict("records")
    plain = [r for r in rows if r["norm"] == NO_NORM]
    vanish = [r for r in plain if r["forward"] == "vanishes"]
    picks = [
        ("healthy", _first(plain, lambda r: bool(r["healthy"]))),
        ("vanishes", _first(vanish, lambda r: float(r["last_std"]) > 0) or (vanish[0] if vanish else None)),
    ]
    diverged = _first(plain, _diverged)
    picks.append(("diverged", diverged) if diverged is not None
                 else ("explodes", _first(plain, lambda r: r["forward"] == "explodes")))
    healthy_plain = {(r["init"], r["activation"]) for r in plain if bool(r["healthy"])}
    picks.append(("bn_rescues", _first(rows, lambda r: r["norm"] == BN and bool(r["healthy"])
                                       and (r["init"], r["activation"]) not in healthy_plain
                                       and any((p["init"], p["activation"]) == (r["init"], r["activation"]) for p in plain))))
    out, seen = [], set()
    for key, r in picks:
        if r is None or (r["init"], r["activation"], r["norm"]) in seen:
            continue
        seen.add((r["init"], r["activation"], r["norm"]))
        out.append({"init": str(r["init"]), "activation": str(r["activation"]), "norm": str(r["norm"]),
                    "label_key": key})
    return out
