"""The dashboard at /_mock/: one HTML page (page.html, no build step, nothing fetched from the
network) that drives the admin API, and the event stream that keeps it live (events.py)."""
