"""The code stays as CONVENTIONS.md asks: ruff-clean with the settings in pyproject.toml
(CI runs no separate linter, so this test is where a slip is caught)."""
import subprocess
import sys

from .conftest import ROOT


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
