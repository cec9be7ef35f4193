"""The activity log: every meaningful action is recorded once, by :func:`record`."""
