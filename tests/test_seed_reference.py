"""The seed's printouts (quotation data) and its code re-run as written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from generator.experiments.seed_code import PRINTED_CASES, SEED_TEXT, load_printouts, parse_printouts, run_seed_code


def test_shipped_printouts_match_the_note_when_available():
    if not SEED_TEXT.exists():
        pytest.skip(f"seed note not present at {SEED_TEXT}")
    parsed = parse_printouts(SEED_TEXT.read_text(encoding="utf-8"))
    pd.testing.assert_frame_equal(parsed, load_printouts(), check_exact=True)


def test_printouts_have_three_cases_of_eleven_rows():
    df = load_printouts()
    assert tuple(df["case"].unique()) == PRINTED_CASES
    assert (df.groupby("case").size() == 11).all()


def test_parser_reads_a_synthetic_printout():
    text = "input layer had mean 0.5 and std 1.5\n" + "".join(
        f"hidden layer {i} had mean {i}e-3 and std {1 / i}\n" for i in range(1, 11)
    )
    df = parse_printouts(text * 2)
    assert list(df["case"].unique()) == list(PRINTED_CASES[:2])
    assert df.loc[3, "std"] == pytest.approx(1 / 3)


def test_he_as_printed_explodes_by_fan_in_over_two_per_layer():
    # W = randn / sqrt(2/n) has Var(W) = n/2, so sigma_w^2 = n * n/2; ReLU halves the second moment,
    # so E[h^2] grows by n^2/4 per layer: the std by n/2.
    # One layer's factor fluctuates by ~10% at this width, so test the geometric mean over layers and seeds.
    n = 200
    logs = []
    for seed in range(5):
        df = run_seed_code("he_relu_as_printed", seed=seed, samples=400, width=n, depth=8)
        rms = np.sqrt(df["std"] ** 2 + df["mean"] ** 2).to_numpy()
        logs.append(np.log(rms[2:] / rms[1:-1]))
    growth = float(np.exp(np.mean(logs)))
    assert growth == pytest.approx(n / 2, rel=0.1)


def test_he_corrected_keeps_second_moment():
    rms = []
    for seed in range(10):
        df = run_seed_code("he_relu_corrected", seed=seed, samples=400, width=200, depth=8)
        rms.append((df["std"] ** 2 + df["mean"] ** 2).to_numpy())
    mean_sq = np.mean(rms, axis=0)
    # Layer 1: E[relu(z)^2] * 2 * E[x^2] = E[x^2] = 1; He keeps it there in expectation.
    assert np.allclose(mean_sq[1:], 1.0, rtol=0.2), mean_sq


def test_small_init_printout_contradicts_its_code():
    printed = load_printouts().query("case == 'small_tanh'")["std"].to_numpy()
    rerun = run_seed_code("small_tanh", seed=0)["std"].to_numpy()
    # tanh is ~linear near 0: each layer scales the std by 0.01 * sqrt(500) ~ 0.22.
    assert rerun[10] < 1e-5 < printed[10]


def test_each_scale_rule_is_the_code_line_the_contract_quotes():
    """The re-run's scale rules (experiments) and the quoted code lines (contract data) say the same."""
    from generator.contract.seed_cases import SEED_CASES
    from generator.experiments.seed_code import SCALES

    assert set(SCALES) == set(SEED_CASES)
    for case, (_, line) in SEED_CASES.items():
        expr = line.split(")", 1)[1].replace("sqrt", "np.sqrt")  # "* 0.01", "/ np.sqrt(2/fan_in)"
        for fan_in in (10, 500):
            assert np.isclose(eval(f"1 {expr}", {"np": np, "fan_in": fan_in}), SCALES[case](fan_in)), case
