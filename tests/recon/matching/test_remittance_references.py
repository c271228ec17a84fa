"""Remittances reconcile by the reference the terminal gave each ticket, whatever the acquirer's format:
the CB statement's "numéro du fichier remis" and Adyen's Merchant Reference alike."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pandas as pd

from lettrage.recon.generate import generate_group
from lettrage.recon.inbox import hotels_of, scan
from lettrage.recon.readers import read_file

TABLE_OF_KIND = {"tpe_journal": "tpe", "remittances": "remittances", "pms_postings": "pms", "psp_journal": "psp"}


def test_adyen_and_cb_remittances_leave_only_the_injected_exceptions(tmp_path):
    inbox = tmp_path / "inbox"
    generate_group(inbox, hotels=3, days=2, seed=3, start=dt.date(2026, 3, 2))  # H002 is settled by Adyen
    hotels = hotels_of(inbox)
    codes = pd.concat([read_file(f.path, "trx_codes", hotels[f.hotel_id]).rows for f in scan(inbox, ["trx_codes"])])
    args = []
    for kind, flag in TABLE_OF_KIND.items():
        rows = pd.concat([read_file(f.path, kind, hotels[f.hotel_id],
                                    trx_codes=codes[codes.hotel_id == f.hotel_id]).rows
                          for f in scan(inbox, [kind])], ignore_index=True)
        path = tmp_path / f"{flag}.parquet"
        rows.to_parquet(path)
        args += [f"--{flag}", str(path)]
    out = subprocess.run([str(Path(sys.executable).parent / "lettrage"), "match", *args,
                          "--hotels", str(inbox / "hotels.csv"), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    found = pd.read_parquet(tmp_path / "out" / "exceptions.parquet")
    truth = pd.read_csv(inbox / "_truth" / "anomalies.csv")
    for code in ("NOT_REMITTED", "REMITTANCE_MISMATCH"):
        for hotel in ("H001", "H002"):
            got = set(found[(found.code == code) & (found.hotel_id == hotel)].record_id)
            expected = set(truth[(truth.code == code) & (truth.hotel_id == hotel)].record_id)
            assert got == expected, (code, hotel, sorted(got - expected)[:5], sorted(expected - got)[:5])
