"""The render layer: the strict Jinja2 environment (env.py), the number and text filters
(filters.py), the ko/en strings catalog (strings.py), fonts for matplotlib (fonts.py) and the checked
bytecode cache (jinja_cache.py).
"""
