"""Shared fixtures: every test gets its own var/ (warehouse, inbox, Dagster home), never the user's."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("DISABLE_PANDERA_IMPORT_WARNING", "True")


@pytest.fixture
def var_dir(tmp_path, monkeypatch):
    """A private var/ folder; settings read from the environment point into it."""
    var = tmp_path / "var"
    var.mkdir()
    monkeypatch.setenv("LETTRAGE_VAR_DIR", str(var))
    monkeypatch.setenv("DAGSTER_HOME", str(var / "dagster_home"))
    (var / "dagster_home").mkdir()
    return var
