"""The reservation book of one hotel, and its daily reservation exports.

Reservations arrive days to weeks after they are booked, stay a few nights on a rate plan that
may be non-refundable or ask for a deposit (paid by payment link), and are sometimes cancelled or
end as no-shows. Times here are the hotel's local clock (naive); `clock` turns them into UTC.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from lettrage.recon.generate import guests
from lettrage.recon.generate.clock import EARLIEST, HOUR, at
from lettrage.recon.generate.group import HotelProfile

# rate plan: share of bookings, price factor, non-refundable, deposit rule, guarantee code, cancel rate
RATE_PLANS = {
    "FLEX": (.45, 1.00, False, "none", "GCC", .12),
    "NRF": (.20, .90, True, "full", "PREPAID", .03),
    "DEP": (.10, 1.00, False, "first_night", "DEP", .12),
    "CORP": (.10, .85, False, "none", "CORP", .08),
    "OTA": (.15, 1.00, False, "none", "OTA", .10),
}
ROOM_TYPE_SHARES = np.array([.55, .25, .15, .05])

def simulate(profile: HotelProfile, rng: np.random.Generator, start: dt.date, days: int) -> pd.DataFrame:
    """Every reservation that matters to the window [start, start + days): one row each."""
    first = np.datetime64(start, "D")
    end = first + np.timedelta64(days, "D")
    arrivals_span = np.arange(first - np.timedelta64(14, "D"), end + np.timedelta64(150, "D"))
    weekday = (arrivals_span.astype("datetime64[D]").view("int64") + 3) % 7  # 0 = Monday
    occupancy = np.where(weekday >= 4, .82, .70) * rng.uniform(.9, 1.1, size=len(arrivals_span))
    counts = rng.poisson(profile.rooms * occupancy / 2.1)
    arrival = np.repeat(arrivals_span, counts)
    n = len(arrival)
    lead = np.where(rng.random(n) < .22, rng.integers(0, 4, size=n),
                    np.minimum(rng.exponential(32, size=n).astype(int), 330))
    created_day = arrival - lead.astype("timedelta64[D]")
    nights = np.minimum(rng.geometric(.48, size=n), 14)
    departure = arrival + nights.astype("timedelta64[D]")
    keep = (created_day < end) & (departure >= first)
    arrival, created_day, nights, departure, lead = (a[keep] for a in (arrival, created_day, nights, departure,
                                                                       lead))
    n = len(arrival)
    plan_codes = np.array(list(RATE_PLANS))
    shares = np.array([p[0] for p in RATE_PLANS.values()])
    plan = plan_codes[rng.choice(len(plan_codes), size=n, p=shares / shares.sum())]
    info = {k: np.array([RATE_PLANS[p][i] for p in plan]) for i, k in
            enumerate(["share", "factor", "non_refundable", "deposit", "guarantee", "cancel_rate"])}
    room_type = rng.choice(len(profile.room_types), size=n, p=ROOM_TYPE_SHARES)
    base = np.array([rt.rate_cents for rt in profile.room_types])[room_type]
    rate = (np.floor(base * info["factor"] / 100) * 100).astype(np.int64)
    adults = np.where(rng.random(n) < .62, 2, 1) + (rng.random(n) < .04)
    children = np.where(rng.random(n) < .1, rng.integers(1, 3, size=n), 0)
    city_tax = adults * nights * profile.location.city_tax_cents
    total = rate * nights + city_tax
    deposit_due = np.select([info["deposit"] == "full", info["deposit"] == "first_night"], [total, rate], 0)
    # Booking time: same-day bookings in the morning, others at any time of the day.
    created_s = np.where(lead == 0, rng.integers(EARLIEST, 12 * HOUR, size=n),
                         rng.integers(EARLIEST, 22 * HOUR, size=n))
    created_at = at(created_day, created_s)
    cancelled = rng.random(n) < info["cancel_rate"].astype(float)
    cancel_after = (rng.random(n) * np.maximum(lead, 1)).astype(int)
    cancel_day = np.where(cancelled, created_day + cancel_after.astype("timedelta64[D]"), np.datetime64("NaT"))
    cancel_day = np.where(cancelled & (cancel_day >= arrival), arrival - np.timedelta64(1, "D"), cancel_day)
    cancel_day = np.where(cancelled & (cancel_day < created_day), created_day, cancel_day)
    cancel_at = at(cancel_day.astype("datetime64[D]"), rng.integers(9 * HOUR, 21 * HOUR, size=n))
    cancel_at = np.where(cancelled & (cancel_at <= created_at), created_at + np.timedelta64(1800, "s"), cancel_at)
    no_show = ~cancelled & (rng.random(n) < .02)
    checkin_s = np.clip(rng.normal(17.5 * HOUR, 2.5 * HOUR, size=n), 13 * HOUR, 22.5 * HOUR).astype(int)
    checkout_s = np.clip(rng.normal(9.5 * HOUR, 1.1 * HOUR, size=n), EARLIEST, 12.5 * HOUR).astype(int)
    checkin_at = at(arrival, checkin_s)
    checkout_at = at(departure, checkout_s)
    # Deposits are paid by payment link: usually within the hour, some days later, some never.
    needs_deposit = deposit_due > 0
    delay = np.where(rng.random(n) < .68, rng.integers(3 * 60, 2 * HOUR, size=n),
                     rng.integers(6 * HOUR, 48 * HOUR, size=n))
    never = rng.random(n) < .08
    pay_at = created_at + delay.astype("timedelta64[s]")
    pay_at = np.where(needs_deposit & ~never & (pay_at < checkin_at - np.timedelta64(2 * HOUR, "s"))
                      & (~cancelled | (pay_at < cancel_at)), pay_at, np.datetime64("NaT"))
    refused_first = ~np.isnat(pay_at) & (rng.random(n) < .08)
    # A card guarantee by link (pre-authorisation of the first night) for some flexible bookings.
    guarantee_link = (plan == "FLEX") & (rng.random(n) < .15)
    guarantee_at = created_at + rng.integers(5 * 60, 3 * HOUR, size=n).astype("timedelta64[s]")
    languages = guests.draw_languages(rng, profile.location.guests, n)
    people = guests.draw_guests(rng, languages)
    cards = guests.draw_cards(rng, languages, profile.french)
    told = rng.random(n) < .6
    hours, halves = rng.integers(14, 23, size=n), rng.integers(0, 2, size=n)
    arrival_time = np.array([f"{h:02d}:{30 * m:02d}" if t else None for t, h, m in zip(told, hours, halves,
                                                                                      strict=True)], dtype=object)
    refundable = ~info["non_refundable"].astype(bool)
    deadline = np.where(refundable, at(arrival - np.timedelta64(1, "D"), np.full(n, 18 * HOUR)),
                        np.datetime64("NaT"))
    payment_method = np.where(plan == "CORP", "DB", np.where(plan == "OTA", "VC", cards["network"].map(
        {"VISA": "VA", "MASTERCARD": "MC", "AMEX": "AX", "JCB": "JC", "DINERS": "DC", "UNIONPAY": "UP",
         "MAESTRO": "MC"}).to_numpy()))
    order = np.lexsort((created_at, arrival))
    seq0 = int(rng.integers(100_000, 800_000))
    book = pd.DataFrame({
        "confirmation_no": (rng.permutation(n) + int(rng.integers(10_000_000, 80_000_000))).astype(str),
        "arrival": arrival, "departure": departure, "nights": nights, "created_at": created_at,
        "room_type": np.array([rt.code for rt in profile.room_types])[room_type], "rate_code": plan,
        "rate_cents": rate, "adults": adults, "children": children, "total_cents": total,
        "deposit_due_cents": deposit_due, "non_refundable": info["non_refundable"].astype(bool),
        "guarantee_code": info["guarantee"], "payment_method": payment_method,
        "cancel_at": np.where(cancelled, cancel_at, np.datetime64("NaT")), "no_show": no_show,
        "checkin_at": checkin_at, "checkout_at": checkout_at, "pay_at": pay_at, "refused_first": refused_first,
        "guarantee_link": guarantee_link, "guarantee_at": guarantee_at, "arrival_time": arrival_time,
        "cancellation_deadline": deadline,
        "first_name": people["first_name"], "last_name": people["last_name"], "email": people["email"],
        "phone": people["phone"], "language": people["language"],
        "card_brand": cards["brand"], "card_network": cards["network"], "card_last4": cards["last4"],
    }).iloc[order].reset_index(drop=True)
    book["resv_no"] = profile.index * 10_000_000 + seq0 + np.arange(n)
    book["room"] = _assign_rooms(profile.rooms, book)
    return book


def _room_numbers(rooms: int) -> list[str]:
    per_floor = 24
    return [f"{1 + i // per_floor}{1 + i % per_floor:02d}" for i in range(rooms)]


def _assign_rooms(rooms: int, book: pd.DataFrame) -> np.ndarray:
    """First free room in arrival order; cancelled bookings get none. An overbooked night shares the
    room that frees first, as a walked guest would be rehoused: rare and harmless here."""
    numbers = _room_numbers(rooms)
    free = np.zeros(rooms, dtype="datetime64[D]")
    free[:] = np.datetime64("1970-01-01")
    out = np.full(len(book), None, dtype=object)
    arrivals = book["arrival"].to_numpy().astype("datetime64[D]")
    departures = book["departure"].to_numpy().astype("datetime64[D]")
    cancelled = book["cancel_at"].notna().to_numpy()
    for i in range(len(book)):
        if cancelled[i]:
            continue
        r = int(np.argmin(free))
        out[i] = numbers[r]
        free[r] = departures[i] if free[r] <= arrivals[i] else max(free[r], departures[i])
    return out


def _business_day(local: pd.Series, offset: np.timedelta64) -> pd.Series:
    return (local - offset).dt.floor("D")


HORIZON_DAYS = 14  # how far ahead the export lists the arrivals


def exports(profile: HotelProfile, book: pd.DataFrame, start: dt.date, days: int) -> pd.DataFrame:
    """The reservation export of each business date: on the first date the guests in house and the
    arrivals of the next two weeks; then every day the reservations booked or changed that day
    (booked, deposit paid, checked in or out, cancelled, no-show) and those whose arrival comes
    within two weeks. One row per (reservation, export date), in the canonical columns."""
    from lettrage.recon.generate.clock import to_utc

    hotel = profile.hotel
    offset = np.timedelta64(int(hotel.audit_offset.total_seconds()), "s")
    first = pd.Timestamp(start)
    last = first + pd.Timedelta(days=days - 1)
    created = _business_day(book["created_at"], offset)
    cancelled = _business_day(book["cancel_at"], offset)
    paid = _business_day(book["pay_at"], offset)
    arrival = pd.to_datetime(book["arrival"])
    departure = pd.to_datetime(book["departure"])
    idx = np.arange(len(book))
    horizon = pd.Timedelta(days=HORIZON_DAYS)
    on_books = (created <= first) & (departure >= first) & (arrival <= first + horizon) & \
        (cancelled.isna() | (cancelled >= first))
    pairs = [pd.DataFrame({"i": idx[on_books.to_numpy()], "day": first})]
    enters = (arrival - horizon).where((created < arrival - horizon) & (cancelled.isna() | (cancelled > arrival - horizon)))
    for when in (created, cancelled, paid, arrival, departure, enters):
        ok = when.notna() & (when >= first) & (when <= last)
        pairs.append(pd.DataFrame({"i": idx[ok.to_numpy()], "day": when[ok].to_numpy()}))
    rows = pd.concat(pairs, ignore_index=True).drop_duplicates().sort_values(["day", "i"], kind="stable")
    b = book.iloc[rows["i"].to_numpy()].reset_index(drop=True)
    day = rows["day"].reset_index(drop=True)
    c_day, p_day = cancelled.iloc[rows["i"]].reset_index(drop=True), paid.iloc[rows["i"]].reset_index(drop=True)
    a_day, d_day = arrival.iloc[rows["i"]].reset_index(drop=True), departure.iloc[rows["i"]].reset_index(drop=True)
    is_cancelled = c_day.notna() & (c_day <= day)
    status = np.select(
        [is_cancelled, b["no_show"] & (a_day <= day), d_day <= day, a_day <= day],
        ["cancelled", "no_show", "checked_out", "in_house"], "reserved")
    deposit_paid = np.where(p_day.notna() & (p_day <= day), b["deposit_due_cents"], 0)
    refunded = is_cancelled & ~b["non_refundable"] & (deposit_paid > 0)
    deposit_paid = np.where(refunded, 0, deposit_paid)
    return pd.DataFrame({
        "reservation_id": hotel.hotel_id + ":" + b["resv_no"].astype(str), "hotel_id": hotel.hotel_id,
        "confirmation_no": b["confirmation_no"], "status": status,
        "created_at": to_utc(hotel, b["created_at"]), "business_date": day.dt.date,
        "arrival_date": a_day.dt.date, "arrival_time": b["arrival_time"], "departure_date": d_day.dt.date,
        "adults": b["adults"].astype("Int64"), "children": b["children"].astype("Int64"),
        "guest_first_name": b["first_name"], "guest_last_name": b["last_name"], "email": b["email"],
        "phone": b["phone"], "language": b["language"], "room_type": b["room_type"], "rate_code": b["rate_code"],
        "total_cents": b["total_cents"].astype("Int64"), "deposit_due_cents": b["deposit_due_cents"].astype("Int64"),
        "deposit_paid_cents": pd.array(deposit_paid, dtype="Int64"), "currency": hotel.currency,
        "guarantee_code": b["guarantee_code"], "payment_method": b["payment_method"],
        "cancellation_deadline": to_utc(hotel, b["cancellation_deadline"]),
        "non_refundable": b["non_refundable"].astype("boolean"),
    })
