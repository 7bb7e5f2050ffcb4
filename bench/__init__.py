"""Benchmarks (not tests): ``python -m bench.ingest``, or ``make bench``. See
docs/BENCHMARKS.md for the figures and how to read them."""
