"""Command handlers, one module per concern; HANDLERS maps command type to handler."""

# Importing the modules registers their handlers.
from application.handlers import assessments as _assessments  # noqa: E402,F401
from application.handlers import cycles as _cycles  # noqa: E402,F401
from application.handlers import frameworks as _frameworks  # noqa: E402,F401
from application.handlers import keys as _keys  # noqa: E402,F401
from application.handlers import oversight as _oversight  # noqa: E402,F401
from application.handlers import past as _past  # noqa: E402,F401
from application.handlers import plans as _plans  # noqa: E402,F401
from application.handlers import ranking as _ranking  # noqa: E402,F401
from application.handlers.base import HANDLERS, Context, Handler, handler

__all__ = ["HANDLERS", "Context", "Handler", "handler"]
