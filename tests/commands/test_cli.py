"""Bad arguments to any command: one line on stderr, exit 2, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from lettrage.cli import COMMANDS

LETTRAGE = str(Path(sys.executable).parent / "lettrage")


def run(*args):
    return subprocess.run([LETTRAGE, *args], capture_output=True, text=True, timeout=120)


# modules are named with underscores, commands with hyphens (mail_sink -> mail-sink)
NAMES = [c.replace("_", "-") for c in COMMANDS]


@pytest.mark.parametrize("args", [["no-such-command"], [], *([c, "--no-such-option"] for c in NAMES)])
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
    for name in NAMES:
        assert name in out.stdout


def test_commands_are_listed_without_loading_the_data_stack():
    """`lettrage --help`, and a command's arguments checked, answer at once: building the parser
    loads none of the libraries the work itself needs (pandas, pandera, scipy, numpy, DuckDB,
    Dagster), which took a second and a half before any command began."""
    heavy = ["pandas", "pandera", "scipy", "numpy", "duckdb", "pyarrow", "dagster"]
    code = ("import sys, lettrage.cli; lettrage.cli.build_parser(); "
            f"print(' '.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == []


def test_the_engine_does_not_load_scipy():
    """The matching engine finds the groups of records in contest itself (`select.components`):
    scipy, a quarter of a second to load, is left to the rare large group."""
    code = "import sys, lettrage.recon.matching.run; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
