"""Baselines for `make bench` (see bench/README.md). Never imported by the product."""
