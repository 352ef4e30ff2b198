"""The data contract: every file the experiments write under ``site/docs/data/``, declared once.

datafile.py (the Column and DataFile records), schema.py (DATA_FILES in published order, read/write
with type checks), training.py (the training CSVs and claims.csv), grid.py (data/grid.json: the grid the
data were computed with), seed_cases.py (the source note's cases as data), dataset.py (what a page gets:
the files and the grid facts of one data directory).
"""
