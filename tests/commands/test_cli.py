"""Bad arguments to any command: one line on stderr, exit 2, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from lettrage.cli import COMMANDS

LETTRAGE = str(Path(sys.executable).parent / "lettrage")


def run(*args):
    return subprocess.run([LETTRAGE, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [["no-such-command"], [], *([c, "--no-such-option"] for c in COMMANDS)])
def test_bad_arguments_give_one_line_and_exit_2(args):
    out = run(*args)
    assert out.returncode == 2, (args, out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert "error" in lines[0]


def test_help_lists_every_command():
    out = run("--help")
    assert out.returncode == 0
    for name in COMMANDS:
        assert name in out.stdout
