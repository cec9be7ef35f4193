"""A built wheel must run outside the checkout: it carries templates, static files,
migrations and catalogues inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path


def test_wheel_carries_everything_the_app_reads(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(tmp_path),
            str(root),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("kizuna-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "app/templates/base.html",
        "app/static/css/kizuna.css",
        "app/static/vendor/htmx/LICENSE",
        "app/migrations/env.py",
        "app/locale/ja/LC_MESSAGES/core.po",
        "app/accounts/common_passwords.txt",
    ):
        assert required in names, required
    assert any(name.startswith("app/migrations/versions/") for name in names)
