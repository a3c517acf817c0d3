"""QA controls: clock/job controls, scenarios, faults, rate limits, journal."""
