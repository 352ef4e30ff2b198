"""The bottom layer: facts and helpers every other layer may use (paths, languages, atomic writes,
hashing). Standard library only; it imports nothing else of the package."""
