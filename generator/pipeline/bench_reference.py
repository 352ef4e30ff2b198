"""The references ``make bench`` measures the engine against (generator/pipeline/bench.py).

Contract: :func:`seed_loop_time` is the wall time of :func:`seed_style_loop` (one config the way the seed
note's code would compute it: ``RandomState.randn``, ``np.dot``, every activation stored, ``np.mean`` /
``np.std`` / ``np.histogram`` per layer, plus a plain backward pass) over a list of grid tasks, in a fresh
interpreter; :func:`torch_time` is PyTorch CPU float64 (2 threads) on the same tasks, or None without
torch. Both only time work; nothing is compared against a stored value.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

from generator.common.paths import ROOT


def seed_loop_time(tasks: list[dict]) -> float:
    """Wall time of :func:`seed_style_loop` over ``tasks`` in a fresh interpreter: the reference is plain
    NumPy code, so it must not inherit this process's allocator settings (generator/pipeline/alloc.py) or warm
    caches. BLAS keeps its default threads (all cores), as the seed's code would."""
    code = (
        "import json, sys, time\n"
        "from generator.pipeline.bench_reference import seed_style_loop\n"
        "tasks = json.load(sys.stdin)\n"
        "t = time.perf_counter()\n"
        "for task in tasks:\n"
        "    seed_style_loop(task)\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(tasks), capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(out.stdout.strip().splitlines()[-1])


def seed_style_loop(task: dict) -> None:
    """One config the way the seed's code would do it, plus a plain backward pass."""
    from generator.engine.activations import get_activation

    act = get_activation(task["activation"])
    rs = np.random.RandomState(task["seed"])
    n, w_, depth = task["samples"], task["width"], task["depth"]
    x = rs.randn(n, w_)
    hs, ws, pre = [x], [], []
    scale = {"small": 0.01, "large": 1.0, "zeros": 0.0}.get(task["init"], 1 / np.sqrt(w_))
    with np.errstate(all="ignore"):
        for _ in range(depth):
            w = rs.randn(w_, w_) * scale
            a = np.dot(hs[-1], w)
            if task["norm"] == "bn":
                a = (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5)
            pre.append(a)
            h = act.forward(a)
            hs.append(h)
            ws.append(w)
            np.mean(h), np.std(h), np.histogram(h, bins=task["hist_bins"], range=(-1, 1))
        dh = rs.randn(n, w_) / n
        for i in reversed(range(depth)):
            da = dh * act.derivative(pre[i])
            dw = np.dot(hs[i].T, da)
            np.linalg.norm(dw), np.std(dh)
            if i:
                dh = np.dot(da, ws[i].T)


def torch_time(tasks: list[dict]) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    acts = {
        "linear": lambda a: a,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda a: torch.nn.functional.leaky_relu(a, 0.01),
        "elu": torch.nn.functional.elu,
        "selu": torch.selu,
        "gelu": torch.nn.functional.gelu,
    }
    t = time.perf_counter()
    for task in tasks:
        g = torch.Generator().manual_seed(task["seed"])
        n, w_, depth = task["samples"], task["width"], task["depth"]
        h = torch.randn(n, w_, generator=g, dtype=torch.float64)
        ws = [(torch.randn(w_, w_, generator=g, dtype=torch.float64) / w_**0.5).requires_grad_() for _ in range(depth)]
        for w in ws:
            a = h @ w
            if task["norm"] == "bn":
                a = torch.nn.functional.batch_norm(a, None, None, training=True)
            h = acts[task["activation"]](a)
            h.mean().item(), h.std().item(), torch.histc(h.detach(), bins=task["hist_bins"], min=-1, max=1)
        gout = torch.randn(n, w_, generator=g, dtype=torch.float64) / n
        (h * gout).sum().backward()
        for w in ws:
            w.grad.norm().item()
    return time.perf_counter() - t
