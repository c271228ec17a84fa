"""The rules finance reads as expectations, checked with Great Expectations (GX 1.x).

For each money table, one suite of expectations, written in the words of the people who read
them (each expectation's `meta.rule`):
- amounts within plausible bounds (± the group's `plausible_amount_cents`, 50 000,00 by default);
- card payments carry a last 4 and a brand (terminal postings in the PMS, every terminal ticket,
  card lines of remittances carry a brand; a PSP payment that went through carries a brand);
- business dates within the file's period (the dates its name announces, with the slack the inbox
  allows: `inbox.file_period`);
- one currency per hotel: every row in the hotel's currency.

`check(table, rows, hotels, files)` returns plain results (`SuiteResult`); GX is imported inside
(it takes seconds to import). The rows come with the hotel list and the file registry so that
the suite can compare each row with its hotel's currency and its file's period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from lettrage.recon.money import format_cents

AMOUNTS = {"pms_postings": "amount_cents", "tpe_transactions": "amount_cents", "remittances": "gross_cents",
           "psp_transactions": "amount_cents"}
TABLES = list(AMOUNTS)


@dataclass
class Outcome:
    rule: str
    success: bool
    checked: int
    unexpected: int
    examples: list = field(default_factory=list)


@dataclass
class SuiteResult:
    table: str
    success: bool
    outcomes: list[Outcome]

    def markdown(self) -> str:
        lines = ["| rule | result | rows checked | rows failing | examples |", "|---|---|---:|---:|---|"]
        for o in self.outcomes:
            examples = ", ".join(str(e) for e in o.examples[:5])
            lines.append(f"| {o.rule} | {'✅ passed' if o.success else '❌ failed'} | {o.checked} | {o.unexpected} "
                         f"| {examples} |")
        return "\n".join(lines)


def prepared(table: str, rows: pd.DataFrame, hotels: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """The rows with what the rules compare them to: hotel currency, file period, card flag."""
    frame = rows.copy()
    currencies = hotels.set_index("hotel_id")["currency"] if len(hotels) else pd.Series(dtype=object)
    frame["hotel_currency"] = frame["hotel_id"].map(currencies)
    if len(files):
        periods = files.dropna(subset=["period_start"]).drop_duplicates("path", keep="last").set_index("path")
        frame["period_start"] = pd.to_datetime(frame["source_file"].map(periods["period_start"]))
        frame["period_end"] = pd.to_datetime(frame["source_file"].map(periods["period_end"]))
    else:
        frame["period_start"] = frame["period_end"] = pd.NaT
    frame["business_day"] = pd.to_datetime(frame["business_date"])
    if table == "pms_postings":
        frame["is_card"] = frame["channel"].eq("terminal")
    elif table == "tpe_transactions":
        frame["is_card"] = True
    elif table == "remittances":
        frame["is_card"] = frame["line_type"].isin(["sale", "refund"])
    else:
        frame["is_card"] = frame["status"].isin(["paid", "authorised", "refunded"])
    return frame


def expectations(table: str, max_cents: int) -> list:
    """The suite of one table: GX expectations, each with its rule in finance words."""
    import great_expectations as gx

    ex = gx.expectations
    amount = AMOUNTS[table]
    bound = format_cents(max_cents)
    suite = [
        ex.ExpectColumnValuesToBeBetween(column=amount, min_value=-max_cents, max_value=max_cents,
                                         meta={"rule": f"amounts within plausible bounds (± {bound})"}),
        ex.ExpectColumnValuesToNotBeNull(column="card_brand", row_condition="is_card == True",
                                         condition_parser="pandas", meta={"rule": "card payments carry a brand"}),
        ex.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="business_day", column_B="period_start", or_equal=True, ignore_row_if="either_value_is_missing",
            meta={"rule": "business dates not before the file's period"}),
        ex.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="period_end", column_B="business_day", or_equal=True, ignore_row_if="either_value_is_missing",
            meta={"rule": "business dates not after the file's period"}),
        ex.ExpectColumnPairValuesToBeEqual(column_A="currency", column_B="hotel_currency",
                                           ignore_row_if="either_value_is_missing",
                                           meta={"rule": "one currency per hotel: the hotel's own"}),
    ]
    if table in ("pms_postings", "tpe_transactions"):
        suite.insert(1, ex.ExpectColumnValuesToNotBeNull(
            column="card_last4", row_condition="is_card == True", condition_parser="pandas",
            meta={"rule": "card payments carry a last 4"}))
    if table == "remittances":
        suite[0] = ex.ExpectColumnValuesToBeBetween(
            column=amount, min_value=-max_cents, max_value=max_cents, row_condition='line_type in ["sale", "refund"]',
            condition_parser="pandas", meta={"rule": f"sale and refund amounts within plausible bounds (± {bound})"})
    return suite


def check(table: str, rows: pd.DataFrame, hotels: pd.DataFrame, files: pd.DataFrame,
          max_cents: int = 5_000_000) -> SuiteResult:
    """Run the table's suite over its rows (one ephemeral GX context, one suite)."""
    import logging

    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    frame = prepared(table, rows, hotels, files)
    if frame.empty:
        return SuiteResult(table, True, [Outcome(e.meta["rule"], True, 0, 0) for e in expectations(table, max_cents)])
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = context.data_sources.add_pandas("rows").add_dataframe_asset(table) \
        .add_batch_definition_whole_dataframe("window")
    suite = context.suites.add(gx.ExpectationSuite(name=f"{table}_finance_rules"))
    for expectation in expectations(table, max_cents):
        suite.add_expectation(expectation)
    validation = context.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch, suite=suite))
    result = validation.run(batch_parameters={"dataframe": frame})
    outcomes = []
    for r in result.results:
        detail = r.result or {}
        outcomes.append(Outcome(
            rule=r.expectation_config.meta.get("rule", r.expectation_config.type),
            success=bool(r.success),
            checked=int(detail.get("element_count", len(frame)) or 0),
            unexpected=int(detail.get("unexpected_count") or 0),
            examples=list(detail.get("partial_unexpected_list") or [])[:5]))
    return SuiteResult(table, bool(result.success), outcomes)
