"""The benchmark: undersign under gunicorn on PostgreSQL and Redis, loaded by wrk on loopback.

Not part of the test suite. Run it with ``make bench`` (see README, "Benchmark").
"""
