"""The source note's cases as plain data: which snippets it shows, and which of them it printed.

Source: choidam, "[Deep Learning] Training NeuralNetwork(2) : Weight Initialization, Batch
Normalization" (a study note on CS231n lecture 6). ``SEED_CASES`` maps each snippet's name to its
nonlinearity and its weight line as the note writes it; ``PRINTED_CASES`` are the three printouts in
the order the note shows them (all tanh); ``SEED_SIZES`` are the note's sizes (samples, width, depth).

The re-run itself (the weight scale of each snippet as a function of fan-in) lives in
:mod:`generator.experiments.seed_code`, keyed by the same names; figures and pages read only this file.
"""

from __future__ import annotations

# The printouts appear in this order in the note: the 0.01 case, the 1.0 case, then Xavier (all tanh).
PRINTED_CASES = ("small_tanh", "large_tanh", "xavier_tanh")

# name -> (activation, the weight line as in the note's code)
SEED_CASES = {
    "small_tanh": ("tanh", "W = randn(fan_in, fan_out) * 0.01"),
    "large_tanh": ("tanh", "W = randn(fan_in, fan_out) * 1.0"),
    "xavier_tanh": ("tanh", "W = randn(fan_in, fan_out) / sqrt(fan_in)"),
    "xavier_relu": ("relu", "W = randn(fan_in, fan_out) / sqrt(fan_in)"),
    "he_relu_as_printed": ("relu", "W = randn(fan_in, fan_out) / sqrt(2/fan_in)"),
    "he_relu_corrected": ("relu", "W = randn(fan_in, fan_out) * sqrt(2/fan_in)"),
}

# The note's sizes: 1000 samples of 500-D input through 10 layers of width 500.
SEED_SIZES = {"samples": 1000, "width": 500, "depth": 10}


def scale_text(case: str) -> str:
    """The constant of a ``* c`` snippet as the note writes it ("0.01", "1.0"), from its code line."""
    return SEED_CASES[case][1].split("*")[-1].strip()
