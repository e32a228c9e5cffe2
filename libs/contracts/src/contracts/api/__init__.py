"""Bodies of the public API: requests, queries and responses of every gateway route."""
