"""Shared plumbing every domain uses: errors, i18n, templating, security, time, limits."""
