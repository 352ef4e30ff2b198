"""Golden pages: pages rendered from a fixed synthetic dataset (data/), compared byte for byte by
tests/test_golden.py and rewritten by ``make golden`` (regenerate.py)."""
