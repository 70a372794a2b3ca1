"""Runners: command line, budget sweeps and reports built on the shared harness."""
