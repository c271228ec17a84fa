"""`lettrage generate`: what a user types, what it prints, and one-line errors (exit 2)."""

import datetime as dt

import pytest

from lettrage.cli import main


def test_generate_writes_a_group_and_reports_its_figures(tmp_path, capsys):
    out = tmp_path / "inbox"
    assert main(["generate", "--hotels", "1", "--days", "1", "--seed", "3", "--start", "2026-02-02",
                 "--format", "generic", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Generated 1 hotels x 1 days from 2026-02-02" in printed
    assert "peak RSS:" in printed and "wall time:" in printed and "rows pms_postings" in printed
    assert (out / "hotels.csv").exists() and (out / "_truth" / "matches.csv").exists()
    assert list((out / "H001" / "pms_postings").iterdir())[0].name == "pms_postings_2026-02-02.csv"


@pytest.mark.parametrize("args, says", [
    (["--hotels", "0"], "must be at least 1"),
    (["--days", "x"], "not a whole number"),
    (["--start", "02/02/2026"], "not a date"),
    (["--format", "excel"], "invalid choice"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, args, says):
    with pytest.raises(SystemExit) as exit_:
        main(["generate", *args, "--out", str(tmp_path / "x")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1


def test_a_folder_that_holds_files_is_not_overwritten(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["generate", "--hotels", "1", "--days", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not empty" in err and len(err.splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_default_start_ends_the_day_before_yesterday(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["generate", "--hotels", "1", "--days", "2", "--format", "generic", "--out", str(out)]) == 0
    days = sorted(p.name for p in (out / "H001" / "tpe_journal").iterdir())
    assert days[-1] == f"tpe_journal_{dt.date.today() - dt.timedelta(days=2)}.csv"
