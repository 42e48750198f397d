"""Benchmarks, run as scripts (``python -m bench.bench_filters``); not part of the package."""
