"""Benchmarks of the support desk. See bench/api_create.py."""
