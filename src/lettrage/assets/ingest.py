"""Ingestion: the hotels' files, read into the canonical tables of the warehouse.

One asset per canonical source table, partitioned by business date; the hotel is a column.
Each run replaces exactly the window (and hotels) it covers, so re-running a day is safe.
Every file a run looks at is recorded in `inbox_files` (read, duplicate, replaced, quarantined,
with rows in = rows out + rejected), every row it could not read in `rejects` (line, reason,
masked raw text); unreadable files are moved to quarantine (`recon.inbox`). The metadata shows
it per file, with the count of card numbers masked. Data-quality checks: `ingest_checks`.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from lettrage.pipelines.partitions import business_date, run_hotels, run_window
from lettrage.recon import inbox, schemas
from lettrage.recon.masking import mask_frame
from lettrage.recon.money import format_cents
from lettrage.recon.warehouse import replace_matching, replace_rejects, replace_window
from lettrage.resources.inbox import InboxResource
from lettrage.resources.warehouse import WarehouseResource

GROUP = "ingest"
AMOUNT_COLUMN = {
    "pms_postings": "amount_cents",
    "tpe_transactions": "amount_cents",
    "remittances": "gross_cents",
    "psp_transactions": "amount_cents",
    "reservations": "total_cents",
}

def per_hotel_table(rows: pd.DataFrame, amount_col: str | None) -> str:
    """Markdown table: rows and total per hotel, as finance reads it."""
    if rows.empty:
        return "_no rows_"
    lines = ["| hotel | rows | total |", "|---|---:|---:|"]
    for hotel_id, part in rows.groupby("hotel_id", sort=True):
        total = int(part[amount_col].fillna(0).sum()) if amount_col else 0
        currency = part["currency"].iloc[0] if "currency" in part else "EUR"
        lines.append(f"| {hotel_id} | {len(part)} | {format_cents(total, currency) if amount_col else ''} |")
    return "\n".join(lines)

def preview(rows: pd.DataFrame, n: int = 10) -> str:
    if rows.empty:
        return "_no rows_"
    shown = rows.drop(columns=["source_file", "ingested_at"], errors="ignore").head(n)
    return shown.to_markdown(index=False) if hasattr(shown, "to_markdown") else shown.to_string(index=False)

@dg.asset(
    partitions_def=business_date,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"python", "duckdb"},
    pool="duckdb",
)
def hotels(context: dg.AssetExecutionContext, inbox_files: InboxResource, warehouse: WarehouseResource):
    """The group's hotels and their settings (time zone, night-audit time, match window, PMS),
    from `hotels.csv` at the root of the inbox. Settings are data: edit the file, not the code."""
    found = inbox_files.hotels()
    frame, _ = mask_frame(pd.DataFrame([vars(h) for h in found.values()]))
    frame = schemas.model("hotels").validate(frame)
    with warehouse.connect() as conn:
        from lettrage.recon.warehouse import replace_reference

        replace_reference(conn, "hotels", frame)
    return dg.MaterializeResult(metadata={
        "hotels": dg.MetadataValue.int(len(frame)),
        "settings": dg.MetadataValue.md(frame.to_markdown(index=False)),
    })

def files_table(files: list[dict]) -> str:
    """Markdown: what became of each delivered file, with its row accounting."""
    if not files:
        return "_no files for these dates_"
    lines = ["| hotel | file | format | status | rows in | rows out | rejected | in these dates | card numbers masked |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for f in files[:200]:
        status = f["status"] + (f": {f['detail']}" if f.get("detail") else "")
        lines.append(f"| {f['hotel_id']} | {f['file_name']} | {f['format'] or ''} | {status.replace('|', '/')} "
                     f"| {f['rows_in']} | {f['rows_out']} | {f['rejected']} | {f['in_window']} | {f['masked_pans']} |")
    if len(files) > 200:
        lines.append(f"| … | {len(files) - 200} more files | | | | | | | |")
    return "\n".join(lines)


def rejects_table(rejects: pd.DataFrame, n: int = 20) -> str:
    if rejects.empty:
        return "_no rejected rows_"
    lines = ["| hotel | file | line | reason |", "|---|---|---:|---|"]
    for _, r in rejects.head(n).iterrows():
        line = "" if pd.isna(r["line_no"]) else int(r["line_no"])
        lines.append(f"| {r['hotel_id']} | {Path(str(r['source_file'])).name} | {line} | "
                     f"{str(r['reason']).replace('|', '/')} |")
    return "\n".join(lines)


def ingest_metadata(result: inbox.LoadResult, written: int, amount_col: str | None) -> dict:
    """What a finance person checks after a load: files, rows in/out/rejected, card numbers masked."""
    statuses = pd.Series([f["status"] for f in result.files], dtype=object).value_counts()
    read = [f for f in result.files if f["status"] == "read"]
    metadata = {
        "rows": dg.MetadataValue.int(written),
        "files_read": dg.MetadataValue.int(len(read)),
        "files_quarantined": dg.MetadataValue.int(int(statuses.get("quarantined", 0) + statuses.get("unreadable", 0))),
        "files_duplicate": dg.MetadataValue.int(int(statuses.get("duplicate", 0))),
        "files_replaced": dg.MetadataValue.int(int(statuses.get("replaced", 0))),
        "rows_in": dg.MetadataValue.int(sum(f["rows_in"] for f in read)),
        "rows_out": dg.MetadataValue.int(sum(f["rows_out"] for f in read)),
        "rows_rejected": dg.MetadataValue.int(len(result.rejects)),
        "card_numbers_masked": dg.MetadataValue.int(result.masked_pans),
        "files": dg.MetadataValue.md(files_table(result.files)),
        "rejects": dg.MetadataValue.md(rejects_table(result.rejects)),
        "by_hotel": dg.MetadataValue.md(per_hotel_table(result.rows, amount_col)),
        "preview": dg.MetadataValue.md(preview(result.rows)),
    }
    if amount_col:
        metadata["total"] = dg.MetadataValue.text(format_cents(int(result.rows[amount_col].fillna(0).sum())))
    return metadata


def _source_asset(kind: str, table: str, doc: str):
    amount_col = AMOUNT_COLUMN.get(table)

    @dg.asset(
        name=table,
        deps=["hotels", "trx_codes"],
        partitions_def=business_date,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=GROUP,
        kinds={"python", "duckdb"},
        pool="duckdb",
        description=doc,
    )
    def _asset(context: dg.AssetExecutionContext, inbox_files: InboxResource, warehouse: WarehouseResource):
        start, end = run_window(context)
        wanted = run_hotels(context)
        hotel_map = inbox_files.hotels(wanted)
        with warehouse.connect() as conn:
            codes = conn.execute("SELECT * FROM trx_codes").df() if table == "pms_postings" else None
        result = inbox.load(inbox_files.root, kind, start, end, hotel_map, trx_codes=codes,
                            quarantine_dir=Path(inbox_files.quarantine_path))
        for _file, reason in result.unreadable:
            context.log.warning(f"file not read, moved to quarantine: {reason}")
        with warehouse.connect() as conn:
            written = replace_window(conn, table, result.rows, start, end, list(hotel_map))
            replace_matching(conn, "inbox_files", result.registry(), ["hotel_id", "kind", "file_name", "sha256"])
            replace_rejects(conn, kind, result.read_shas(), result.reject_rows())
        return dg.MaterializeResult(metadata=ingest_metadata(result, written, amount_col))

    return _asset


pms_postings = _source_asset(
    "pms_postings", "pms_postings",
    "Card and other payments posted on guest folios in the PMS (OPERA, protel, OnQ, Starlight), "
    "one row per posting, with the card brand and channel from the hotel's transaction codes.")
tpe_transactions = _source_asset(
    "tpe_journal", "tpe_transactions",
    "Card-terminal (TPE) journal: one row per ticket, with its terminal, masked card and "
    "'numéro du fichier remis'.")
remittances = _source_asset(
    "remittances", "remittances",
    "Acquirer remittance lines (remises, télécollecte, settlement reports): gross, fees and net.")
psp_transactions = _source_asset(
    "psp_journal", "psp_transactions",
    "Online payments at the PSP (payment links, e-commerce), from its reports.")
reservations = _source_asset(
    "reservations", "reservations",
    "The PMS reservation export of each day: the input of payment-link rules.")

@dg.asset(
    deps=[hotels],
    partitions_def=business_date,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"python", "duckdb"},
    pool="duckdb",
)
def trx_codes(context: dg.AssetExecutionContext, inbox_files: InboxResource, warehouse: WarehouseResource):
    """Each hotel's PMS transaction codes (the 'RUBS / Libellé / Groupes' table): label, department,
    whether it is a payment, the card brand and the channel (terminal, distance, PSP, cash, transfer)."""
    from lettrage.recon.readers import UnreadableFile, read_file

    hotel_map = inbox_files.hotels()
    frames = []
    for f in inbox.scan(inbox_files.root, ["trx_codes"], list(hotel_map)):
        try:
            frames.append(read_file(f.path, "trx_codes", hotel_map[f.hotel_id]).rows)
        except UnreadableFile as exc:
            context.log.warning(f"code table not read, moved to quarantine: {exc}")
            inbox.quarantine(f, str(exc), Path(inbox_files.quarantine_path), f.sha256())
    frame = pd.concat(frames, ignore_index=True) if frames else schemas.empty_frame("trx_codes")
    frame = frame.drop_duplicates(["hotel_id", "trx_code"], keep="last")
    frame = schemas.model("trx_codes").validate(frame[schemas.columns("trx_codes")])
    with warehouse.connect() as conn:
        from lettrage.recon.warehouse import replace_reference

        replace_reference(conn, "trx_codes", frame)
    payments = frame[frame["is_payment"].fillna(False).astype(bool)]
    return dg.MaterializeResult(metadata={
        "codes": dg.MetadataValue.int(len(frame)),
        "payment_codes": dg.MetadataValue.int(len(payments)),
        "hotels": dg.MetadataValue.int(frame["hotel_id"].nunique()),
        "preview": dg.MetadataValue.md(preview(frame, 20)),
    })

SOURCE_ASSETS = [hotels, trx_codes, pms_postings, tpe_transactions, remittances, psp_transactions, reservations]
