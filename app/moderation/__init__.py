"""Moderation: flags, the review queue, actions on content and members, limits, the audit log."""
