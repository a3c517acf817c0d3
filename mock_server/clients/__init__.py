"""Helpers that point vendors' own clients (their CLIs, SDKs) at a running mock."""
