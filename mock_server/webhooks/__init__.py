"""Webhooks: Commerce Layer's subscriptions to job transitions, delivered on the virtual clock.

`topics` (which status of which job type fires which topic, read from the spec), `deliveries`
(one event to one webhook: its signed body, attempts and outcome; the bounded log the admin API
lists), `engine` (finds each transition at its virtual instant), `sender` (sends it, with
retries and the circuit breaker), `policy` (the retry schedule, time limit and circuit from the
config), `faults` and `rules` (QA delivery controls per webhook and by rule), `replicas` (with
PostgreSQL replicas, the one replica that sends), `handle` (the pytest fixture's), `admin_api`.
The `/api/webhooks` and `/api/event_callbacks` handlers are in vendors/commercelayer/webhooks.py.
"""
