"""Benchmarks: `make bench` serves the demo with gunicorn on loopback and measures it."""
