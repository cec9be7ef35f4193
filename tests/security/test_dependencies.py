"""pip-audit over the installed dependencies: no package with a known vulnerability.

It asks PyPI's advisory service (network); without it the test is skipped, saying so."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ADVISORIES = "https://pypi.org/pypi/pip-audit/json"


def _pip_audit() -> list[str]:
    beside = Path(sys.executable).with_name("pip-audit")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("pip-audit")
    if found is None:
        pytest.skip("pip-audit is not installed (pip install -e '.[dev]')")
    return [found]


def test_no_installed_dependency_has_a_known_vulnerability() -> None:
    try:
        httpx.get(ADVISORIES, timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.skip(f"PyPI's advisory service cannot be reached ({exc}); run `pip-audit` later")
    done = subprocess.run(
        [*_pip_audit(), "--format", "json", "--progress-spinner", "off", "--skip-editable"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode not in (0, 1) or not done.stdout.strip():
        pytest.skip(f"pip-audit could not run: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout)
    vulnerable = [
        f"{dep['name']} {dep['version']}: {', '.join(v['id'] for v in dep['vulns'])}"
        for dep in report["dependencies"]
        if dep.get("vulns")
    ]
    assert vulnerable == [], "upgrade these (see `pip-audit`):\n" + "\n".join(vulnerable)
