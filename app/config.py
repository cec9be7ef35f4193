"""Settings, read once from the environment (prefix ``KIZUNA_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-kizuna-development-secret"


class UnsafeSettings(RuntimeError):
    """Raised at start-up when production runs with a development default."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIZUNA_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    secret_key: str = DEFAULT_SECRET
    database_url: str = ""
    data_dir: Path = Path("var")
    site_name: str = "Kizuna"
    base_url: str = "http://127.0.0.1:8000"
    community_timezone: str = "Asia/Tokyo"
    default_locale: Literal["en", "ja"] = "ja"
    # Database connections each serving process keeps open. Every concurrent request holds one
    # for its duration; past the pool, connections are opened and closed per request, which on
    # SQLite also means a cold page cache and on PostgreSQL a new backend.
    database_pool_size: int = Field(default=20, ge=1, le=200)
    redis_url: str = ""
    smtp_url: str = ""
    mail_from: str = "Kizuna <no-reply@localhost>"
    session_days: int = Field(default=30, ge=1, le=365)
    signin_attempts_per_account: int = Field(default=5, ge=1)
    signin_attempts_per_ip: int = Field(default=20, ge=1)
    signin_window_seconds: int = Field(default=900, ge=1)
    signups_per_ip_per_hour: int = Field(default=10, ge=1)
    trusted_proxies: str = ""
    log_level: str = "info"
    # Webhooks may not reach private, loopback or link-local addresses unless this is on.
    webhooks_allow_private: bool = False
    api_token_requests_per_minute: int = Field(default=300, ge=1)
    # How often each serving process opens/closes scheduled campaigns and announces surveys.
    scheduler_seconds: float = Field(default=60.0, gt=0, le=3600)
    # How long a serving process may show the rank ladder (names, colours, badges) it read
    # before reading it again; an edit shows at once in the process that saved it. 0: every page.
    ranks_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # How long the batch that refreshes the scores of members an activity concerns (reach,
    # RFM, decile, ambassador detection) waits after a commit, gathering the commits that
    # come meanwhile. 0: right after each commit, before the request's task ends.
    score_refresh_delay_seconds: float = Field(default=0.2, ge=0, le=60)

    @field_validator("community_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kizuna.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def check_safe(self) -> None:
        """Refuse to run in production with defaults that would make it unsafe."""
        if self.env != "production":
            return
        if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
            raise UnsafeSettings(
                "KIZUNA_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production, for example the output of: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
