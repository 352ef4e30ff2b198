"""The data contract: every file the experiments write under ``site/docs/data/``, its columns,
types and ko/en descriptions, declared once (schema.py). Pages, figures and the data dictionary read it.
"""
