"""Criteria tables in and out: .csv/.xlsx import (with past scores), check, export, show.

The file format is documented in docs/FRAMEWORKS.md.
"""
