"""Thresholds and pairings that several pages and figures judge by: one definition each.

* ``MATCHING``: the initialization each activation is paired with. Activations that are (near-)linear
  around 0 with E[phi(z)^2] close to Var(z) -- linear, tanh, sigmoid -- and SELU (self-normalizing under
  LeCun normal, Var(W) = 1/fan_in) go with ``xavier``; the rectifier family -- relu, leaky_relu, elu,
  gelu -- with ``he``. Stated on the activations page; the matched-pairs figure draws these pairs.
  Derived from the records (``Activation.matched_init``), grouped by init (engine.activations.matched_pairs).
* ``MATCH_TOL``: two per-layer growth factors "match" (the gradient mirrors the forward pass, or
  sqrt(chi_1) predicts the gradient factor) when their ratio is within 1 +- MATCH_TOL.
* ``COLLAPSE_RATIO``: a signal has collapsed when its last-layer std is below COLLAPSE_RATIO x its
  layer-1 std (the conclusions page's claims and the source-note page's Xavier + ReLU verdict).
"""

from generator.engine.activations import matched_pairs

MATCHING = matched_pairs()
MATCH_TOL = 0.10
COLLAPSE_RATIO = 1e-2
