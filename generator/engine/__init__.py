"""The engine layer: NumPy only, nothing else of the package (a test imports it without pandas,
matplotlib or jinja2).

inits.py (the INITS registry of Init records), activations.py (the ACTIVATIONS registry), layers.py
(CS231n-style paired forward/backward functions), network.py (the fused deep MLP of the propagation
experiments), mlp.py and mlp_fast.py (the training model and its fast path; inplace.py: its batch norm
and dropout in reused buffers), theory.py (the mean-field recursion), digits.py (the training data set
and its preprocessing).
"""
