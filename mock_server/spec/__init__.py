"""Build-time spec tooling: vendor docs + overlay → openapi.yaml, and its loader."""
