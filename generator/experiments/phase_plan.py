"""The ``[phase]`` section's tasks: finite-width measurements (``phase``) and the theory grid (``phase_theory``).

:func:`phase_tasks` gives one ``phase`` task per (activation, width, seed, chunk of ``chunk_w`` measured
sigma_w^2 values), each over every measured sigma_b^2 (generator/experiments/phase_run.py: a task's points
share one weight draw). :func:`theory_tasks` gives one ``phase_theory`` task per (activation, theory
sigma_w^2) over every theory sigma_b^2. Both lists are ordered so that costly and cheap tasks alternate
(:func:`_spread`); the stage sorts the results back into the files' row order. :func:`phase_flops_total` is the GEMM work of the measurements
(``python -m generator.experiments.phase_plan CONFIG`` prints it, with the task count).
"""

from __future__ import annotations

from generator.experiments.phase_run import phase_flops


def _chunks(values: list[float], k: int) -> list[list[float]]:
    return [values[i : i + k] for i in range(0, len(values), k)]


def _spread(items: list, key) -> list:
    """``items`` reordered so that any run of consecutive items mixes costs: sorted by ``key`` (costliest
    first), then dealt round-robin into ``STRIDE`` piles that are concatenated. The process pool hands out
    consecutive tasks in chunks (runner.ProcessExecutor, 16 a chunk): without this, one chunk would hold
    every costly task and one worker would compute most of the stage."""
    ranked = sorted(items, key=key, reverse=True)
    return [t for pile in range(STRIDE) for t in ranked[pile::STRIDE]]


STRIDE = 8


def phase_tasks(cfg) -> list[dict]:
    """Every ``phase`` task of ``cfg.phase`` (params of phase_run.phase_measure), costs spread (:func:`_spread`)."""
    p = cfg.phase
    tasks = [
        dict(
            activation=act,
            width=width,
            seed=seed,
            depth=p.depth,
            sigma_w2s=chunk,
            sigma_b2s=p.measured_b,
            pairs=p.pairs,
            q0=p.q0,
            c0=p.c0,
        )
        for width in p.widths
        for seed in p.seeds
        for act in p.activations
        for chunk in _chunks(p.measured_w, p.chunk_w)
    ]
    return _spread(tasks, phase_flops)


def theory_tasks(cfg) -> list[dict]:
    """Every ``phase_theory`` task (params of phase_run.phase_theory): one sigma_w^2 row of the theory grid
    each (a chaotic tanh row takes seconds, an ordered one a fraction of that), costs spread: rows with a
    larger sigma_w^2 (more chaotic points, whose c* needs a scan) count as costlier."""
    p = cfg.phase
    tasks = [
        dict(activation=act, sigma_w2s=[s2], sigma_b2s=p.theory_b, q0=p.q0, points=p.quadrature_points)
        for act in p.activations
        for s2 in p.theory_w
    ]
    return _spread(tasks, lambda t: t["sigma_w2s"][0])


def phase_flops_total(cfg) -> int:
    """GEMM FLOPs of every ``phase`` task of ``cfg``."""
    return sum(phase_flops(t) for t in phase_tasks(cfg))


def main(argv=None) -> int:
    import argparse

    from generator.config.load import load_config

    ap = argparse.ArgumentParser(description="GEMM FLOPs of a config's phase measurements")
    ap.add_argument("config")
    args = ap.parse_args(argv)
    cfg = load_config(args.config, check_writable=False, check_memory=False)
    tasks = phase_tasks(cfg)
    print(f"phase: {len(tasks)} tasks, {phase_flops_total(cfg):.3e} GEMM FLOP")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
