"""The ``[phase]`` config section: defaults, the measured sub-grid rule, one-line errors naming the field."""

from __future__ import annotations

import pytest

from generator.common.paths import ROOT
from generator.config.load import ConfigError, parse_config, parse_toml
from generator.config.phase import PhaseConfig

SMALL = (ROOT / "configs" / "small.toml").read_text()


def _load(text: str):
    return parse_config(parse_toml(text))


def test_defaults_without_a_phase_section():
    text = SMALL[: SMALL.index("[phase]")]
    cfg = _load(text)
    assert cfg.phase == PhaseConfig()
    assert cfg.phase.activations == ("tanh", "relu")


def test_grids_are_linear_and_measured_points_are_theory_points():
    p = PhaseConfig()
    assert len(p.theory_w) == len(p.theory_b) == p.theory_points
    assert p.theory_w[0] == p.sigma_w2_min and p.theory_w[-1] == p.sigma_w2_max
    assert len(p.measured_w) == p.points_w and len(p.measured_b) == p.points_b
    assert set(p.measured_w) <= set(p.theory_w) and set(p.measured_b) <= set(p.theory_b)
    assert p.measured_w[-1] == p.sigma_w2_max and p.measured_b[-1] == p.sigma_b2_max
    # the published critical point (tanh, sigma_b^2 = 0.05) is on the default theory grid
    assert 0.05 in p.theory_b


def test_small_config_section_loads():
    p = _load(SMALL).phase
    assert p.theory_points == 5 and p.widths == (50, 100)
    assert set(p.measured_w) <= set(p.theory_w)


@pytest.mark.parametrize(
    "raw, field, fragments",
    [
        ({"points_w": 4}, "phase.points_w", ["valid: 2, 3, 5, 6, 9, 11, 21, 41"]),
        ({"theory_points": 10, "points_b": 5}, "phase.points_w", ["valid: 2, 4, 10"]),
        ({"sigma_b2_max": 0.0}, "phase.sigma_b2_max", ["must be > sigma_b2_min"]),
        ({"sigma_w2_min": 0.0}, "phase.sigma_w2_min", ["must be > 0"]),
        ({"activations": ["swish"]}, "phase.activations[0]", ["swish", "tanh", "relu"]),
        ({"widths": []}, "phase.widths", ["empty"]),
        ({"c0": 1.5}, "phase.c0", ["<= 1.0"]),
        ({"depht": 3}, "phase.depht", ["unknown key", "depth"]),
    ],
)
def test_errors_are_one_line_naming_the_field(raw, field, fragments):
    from generator.config.load import build_section

    with pytest.raises(ConfigError) as info:
        build_section("phase", raw)
    message = str(info.value)
    assert "\n" not in message and f"config error: {field}:" in message, message
    for fragment in fragments:
        assert fragment in message, message
