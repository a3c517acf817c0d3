"""The domain, without aiohttp: the clock, job lifecycles and plans, job types from the spec,
errors, the store, the one door for job changes (jobs.py) and the change feed."""
