"""Benchmarks (`make bench`): figures reported against the project's goals; they never fail the build."""
