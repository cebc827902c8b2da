"""Documents officials use, as files: Appendix I scoring sheets and Appendix II
ranking tables in Excel (.xlsx) and Word (.docx), each carrying the signed
checkpoint it was computed at, and read back for `parindex verify-document`."""
