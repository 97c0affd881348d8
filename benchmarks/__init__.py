"""Speed benchmarks of avvp_lib against re-implementations of the official loops (``python -m benchmarks.run``)."""
