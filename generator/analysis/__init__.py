"""The analysis layer: data -> numbers, regimes and verdicts, with each rule stated once.

No matplotlib, no strings catalog: figures and pages import from here, never the reverse.
"""
