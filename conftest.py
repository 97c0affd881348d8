"""Repository-wide pytest setup, loaded before any test module or notebook kernel starts.

1. ``import avvp_lib`` pins the CPU numerics (``avvp_lib.numerics``) in this process's environment, so
   unit tests and every notebook kernel that nbval starts (they inherit the environment) run the same
   kernels; ``AVVP_NUMERICS=native`` opts out.
2. ``tests/nbval_tolerance.py`` makes nbval compare training-dependent cells within seed noise.
"""
import avvp_lib  # noqa: F401  (first: pins the numerics before torch loads)

pytest_plugins = ["tests.nbval_tolerance"]
