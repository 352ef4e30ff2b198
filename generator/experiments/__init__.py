"""The experiment tasks: params -> DataFrames, pure functions run by the pipeline's runner
(propagation.py, symmetry.py, seed_code.py, training_run.py; training_plan.py turns [training] into runs
and their results into the tidy frames). No file writing: the pipeline stores the
results.
"""
