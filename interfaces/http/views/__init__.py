"""One blueprint per area; each view: arguments in -> one app or query call -> JSON out."""
