"""Observability of the server and its runs: Prometheus metrics (metrics.py says why they are split as they are).

Nothing is imported here: each module is imported by name, so a user of one (the library's tracing, say)
does not pull in the others' dependencies (prometheus_client, the job queue).
"""
