"""Command handlers, one module per concern; HANDLERS maps command type to handler."""

from application.handlers.base import HANDLERS, Context, Handler, handler

# Importing the modules registers their handlers.
from application.handlers import keys as _keys  # noqa: E402,F401

__all__ = ["HANDLERS", "Context", "Handler", "handler"]
