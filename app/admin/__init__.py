"""Admin pages: community configuration and the mail outbox."""
