"""Shared machinery of every technique: the lab home, the store, jobs, artifacts, input checks, runtimes."""
