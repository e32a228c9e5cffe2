"""Dev and test tooling: find or start Postgres, Kafka and S3, then run the suite on them.

Used by the pytest fixtures and by `make run`; never imported by a service.
"""
