"""Benchmarks run by hand (make bench); each prints its figures."""
