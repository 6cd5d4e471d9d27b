"""Benchmarks (`make bench`): each measured beside its floor in the same run, reported as a ratio."""
