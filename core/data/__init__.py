"""Data set loaders, offline defaults first."""


class DataError(RuntimeError):
    """A data set cannot be had or read; the message is meant for the user."""
