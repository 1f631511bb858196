"""Errors the command line reports as messages; kept free of heavy imports so it can load them early."""


class IndexUnavailableError(RuntimeError):
    """The index cannot be opened or used as asked; the message says how to fix it."""


class IndexBusyError(IndexUnavailableError):
    """Another process kept the index's writer lock for longer than the writer would wait."""
