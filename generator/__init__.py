"""initlab: measured, reproducible report on weight initialization and batch normalization.

The package is layered; each folder is one responsibility and imports only the layers below it
(``tests/test_import_layers.py`` enforces the arrows, with imports inside functions counted)::

    common/       paths (the one ROOT), languages, atomic writes, hashing; standard library only
    engine/       NumPy only: inits, activations, layers (CS231n pairs), network, mlp, theory, digits
    config/       experiments.toml -> a validated Config (ConfigError: exit 2, one line)
    contract/     every data file under site/docs/data/ declared once (columns, types, ko/en text)
    analysis/     data -> numbers, regimes and verdicts; no matplotlib, no strings catalog
    experiments/  task functions: params -> DataFrames (propagation, symmetry, seed re-runs, training)
    render/       the Jinja environment, filters, the ko/en strings catalog, fonts
    figures/      matplotlib figures, one Korean and one English file each
    pages/        analysis results -> display dicts for the templates
    pipeline/     stages, runner and executors, cache store, outputs and lock, site stamp, MkDocs build
    cli.py        argparse -> pipeline (``python -m generator <stage>``)
"""

__version__ = "0.1.0"
