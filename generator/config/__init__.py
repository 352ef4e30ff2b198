"""The config layer: experiments.toml -> a validated ``Config`` (load.py) with the ``[training]``
section (training.py). Bad input raises ``ConfigError``: exit 2, one line naming the field and the valid
choices. Imports only common/ and engine/ (the registries that list the valid choices).
"""
