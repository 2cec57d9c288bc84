"""Data set loaders, offline defaults first."""

from core.lab.errors import LabError


class DataError(LabError, RuntimeError):
    """A data set cannot be had or read; the message is meant for the user."""
