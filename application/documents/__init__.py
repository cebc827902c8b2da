"""The documents officials use (Appendix I scoring sheets, Appendix II ranking
tables), as figures computed from the log's own events at a signed checkpoint."""
