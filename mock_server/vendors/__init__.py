"""The vendors the mock speaks for: each package holds its handlers, rendering, auth and the
vendor-specific behaviour of its resources."""
