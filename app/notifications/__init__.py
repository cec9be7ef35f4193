"""Notifications and mail."""
