"""Members, sessions, roles, sign-up/in/out, profiles and settings."""
