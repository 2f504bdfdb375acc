"""The test suite's own guards: no developer variable reaches a test, and rewriting golden files
is never mistaken for passing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import conftest

ROOT = Path(__file__).resolve().parents[1]


def test_no_user_variable_is_visible_to_a_test() -> None:
    visible = [name for name in os.environ if name.startswith(conftest.USER_VARIABLE_PREFIXES)]
    assert visible == []


def test_variables_set_outside_the_suite_are_hidden_from_it() -> None:
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-from-the-developer",
        "FLASHGEN_LLM_API_KEY": "sk-from-the-developer",
        "FLASHGEN_LLM_BASE_URL": "http://192.0.2.1/v1",
        "FLASHGEN_ANKICONNECT_KEY": "secret",
        "FLASHGEN_CONFIG": "/nonexistent/flashgen.yaml",
    }
    target = "tests/test_hygiene.py::test_no_user_variable_is_visible_to_a_test"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_updating_a_golden_file_fails_the_run_and_rewrites_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    golden = tmp_path / "case.yaml"
    golden.write_text("- old\n", encoding="utf-8")
    monkeypatch.setattr(conftest, "UPDATE_GOLDEN", True)
    with pytest.raises(pytest.fail.Exception, match="golden file rewritten"):
        conftest.assert_golden(["new"], golden)
    assert golden.read_text(encoding="utf-8") == "- new\n"
    conftest.assert_golden(["new"], golden)  # unchanged now: passes


def test_a_golden_mismatch_fails_without_the_update_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    golden = tmp_path / "case.yaml"
    golden.write_text("- old\n", encoding="utf-8")
    monkeypatch.setattr(conftest, "UPDATE_GOLDEN", False)
    with pytest.raises(AssertionError):
        conftest.assert_golden(["new"], golden)
    assert golden.read_text(encoding="utf-8") == "- old\n"
