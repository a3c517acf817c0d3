"""Job scenarios (fail, interrupt, stall, error_rate, durations, outcome): parsed (scenario.py),
matched by config rules (book.py), put on a job's time line (fate.py), attached to jobs (attach.py)."""
