"""Benchmarks: each module `bench/<name>.py` has `main(argv)`, prints a table and writes JSON.

Run them as `bridge bench <name>` (or `make bench NAME=<name>`); results go to
results/bench/<name>.json, and the latest numbers are copied into docs/benchmarks.md.
"""
