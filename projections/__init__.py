"""Read models rebuilt from the log (docs/DESIGN.md, "Storage"): disposable SQLite files.

    model = ReadModel(path)                 # one file per app server
    follower = Follower(app, model)         # catch_up(), wait_for(), start()/stop()
    q = Queries(model)                      # the reads the HTTP API serves
    rebuild(app, path) / compare(app, path) / digest(model)
    model = open_current(app, path)         # at start-up: rebuilt if missing/stale

See `projections.queries` for the read contract.
"""

from projections.follower import Follower, ProjectionError
from projections.queries import Queries
from projections.rebuilder import compare, digest, open_current, rebuild
from projections.store import ReadModel

__all__ = [
    "Follower",
    "ProjectionError",
    "Queries",
    "ReadModel",
    "compare",
    "digest",
    "open_current",
    "rebuild",
]
