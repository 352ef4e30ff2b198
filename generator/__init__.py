"""initlab: measured, reproducible report on weight initialization and batch normalization.

Pipeline (one module per stage; each stage is also a CLI command, ``python -m generator <stage>``)::

    config.py      experiments.toml -> validated Config (ConfigError -> "config error: <field>: <problem>", exit 2)
    runner.py      tasks -> results through an Executor seam (serial / process pool; a Dask client fits the
                   same ``map`` interface), cached by a hash of the *inputs* (cache.py)
    propagation.py / symmetry.py / theory.py   the experiments (NumPy, hand-written forward and backward in layers.py)
    contract.py    the data files under ``site/docs/data/`` and their columns (the documented contract)
    figures/       matplotlib figures, one Korean and one English file each
    render.py      one strict Jinja2 Environment: ``templates/`` -> ``site/docs/*.{ko,en}.md``
    build.py       ``mkdocs build --strict`` into a temporary directory, swapped into ``site/public`` on success

Shared bottom layer: common/ (paths: the one ROOT; languages; atomic writes; hashing), standard library
only. Safety: outputs.py (what the build owns, the pipeline lock), signals.py (Ctrl-C, SIGTERM, workers
that die with the main process).

Engine modules: inits.py (INITS registry), activations.py (ACTIVATIONS registry), layers.py
(CS231n-style paired forward/backward functions), network.py (the deep MLP used by the experiments).
"""

__version__ = "0.1.0"
