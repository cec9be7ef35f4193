"""Integrations: API tokens and outgoing webhooks."""
