"""Commerce Layer Core API: job resources (imports, exports, cleanups), records, OAuth, files."""
