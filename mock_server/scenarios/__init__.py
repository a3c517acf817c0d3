"""Job scenarios (fail, interrupt, stall, error_rate, durations, outcome): parsed and matched
(scenario.py), put on a job's time line (fate.py), attached to jobs (attach.py)."""
