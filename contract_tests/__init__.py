"""Contract suite: checks any implementation of openapi.yaml, job lifecycles included.

Run it with `mock-server contract --base-url URL ...` or `pytest contract_tests/`.
"""
