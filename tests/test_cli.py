"""The `kizuna` command, run as a user runs it: a real process on a fresh SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import DEFAULT_SECRET, Settings, UnsafeSettings


def kizuna(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "KIZUNA_DATA_DIR": str(data_dir),
        "KIZUNA_DATABASE_URL": "",
        "KIZUNA_ENV": "development",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("sub", ["serve", "migrate", "demo", "create-admin", "tick"])
def test_every_subcommand_has_help(sub: str, tmp_path: Path) -> None:
    result = kizuna(sub, "--help", data_dir=tmp_path)
    assert result.returncode == 0
    assert "usage: kizuna" in result.stdout


def test_migrate_demo_and_create_admin(tmp_path: Path) -> None:
    assert kizuna("migrate", "upgrade", data_dir=tmp_path).returncode == 0
    demo = kizuna("demo", "--if-empty", data_dir=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "admin@example.com" in demo.stdout
    assert "Password for all demo accounts" in demo.stdout
    again = kizuna("demo", "--if-empty", data_dir=tmp_path)
    assert "already has members" in again.stdout
    recomputed = kizuna("analytics", "recompute", "--rebuild-rollups", data_dir=tmp_path)
    assert recomputed.returncode == 0, recomputed.stderr
    assert "Rollups rebuilt from" in recomputed.stdout
    assert "Scores recomputed for" in recomputed.stdout

    weak = kizuna(
        "create-admin", "--email", "boss@example.com", "--password", "short", data_dir=tmp_path
    )
    assert weak.returncode == 2
    assert "10 characters" in weak.stderr
    made = kizuna(
        "create-admin",
        "--email",
        "boss@example.com",
        "--password",
        "a strong boss passphrase",
        data_dir=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    assert kizuna("migrate", "downgrade", "base", data_dir=tmp_path).returncode == 0


def test_production_refuses_the_default_secret(tmp_path: Path) -> None:
    with pytest.raises(UnsafeSettings):
        Settings(env="production", secret_key=DEFAULT_SECRET).check_safe()
    Settings(env="production", secret_key="x" * 40).check_safe()
    result = kizuna(
        "serve", "--port", "1", data_dir=tmp_path, KIZUNA_ENV="production", KIZUNA_SECRET_KEY=""
    )
    assert result.returncode != 0
    assert "KIZUNA_SECRET_KEY" in result.stderr
