"""Rackspace Cloud Backup v2 cleanups on the shared engine: agents, auth, cleanups, results."""
