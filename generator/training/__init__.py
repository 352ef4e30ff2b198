"""Training experiments: does batch normalization do what the seed note says, measured on digits?

data.py (digits, stratified split, preprocessing) -> model.py (MLP from the shared layers.py functions)
-> train.py (one cached run, the runner task ``training``) -> experiments.py (the grids, tidy CSVs,
``run_training``) -> claims.py (verdict rules, ``training_context``) -> figures.py. config.py holds
``TrainingConfig``, the ``[training]`` section.
"""
