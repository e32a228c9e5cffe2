"""What Encore's services agree on: events, topics, ids, hashing and the error envelope.

Nothing with I/O lives here, so every service (and every test) can import it freely.
"""
