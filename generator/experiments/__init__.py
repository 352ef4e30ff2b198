"""The experiment tasks: params -> DataFrames, pure functions run by the pipeline's runner
(propagation.py, symmetry.py, seed_code.py, training_run.py). No file writing: the pipeline stores the
results.
"""
