"""The pipeline layer: stage drivers (stages.py, experiments_stage.py, training_stage.py,
figures_stage.py), the runner and its executors (runner.py, alloc.py), the task cache (store.py), what
the build owns (outputs.py), the site stamp (stamp.py), signals (signals.py), the MkDocs build
(build.py) and the benchmark (bench.py). Only cli.py imports this layer.
"""
