"""Rackspace Cloud Backup v2: cleanups, their results and events, agents, auth."""
