"""Live updates: a broker that fans events out to WebSocket connections, in one process or
across many through Redis pub/sub, and the one WebSocket endpoint."""
