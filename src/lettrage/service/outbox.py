"""Handing the messages an outcome recorded (response to the guest, notice to the hotel) to the
links layer's exactly-once sender right after the commit, so that the guest hears at once.
What cannot go now (SMTP down) stays recorded: the send sensor retries it."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

log = logging.getLogger("lettrage.service.outbox")
# One batch at a time in this process: two notifications of one request never hand over the same send.
_one_at_a_time = threading.Lock()


def deliver(settings, sessions, request_id: int) -> int:
    """Deliver the recorded responses and notices of one request; returns how many went out."""
    from lettrage.paylinks import sending
    from lettrage.paylinks.outbox import open_outbox
    from lettrage.paylinks.store import LinkSend

    with sessions() as s:
        ids = list(s.scalars(select(LinkSend.id).where(
            LinkSend.request_id == request_id, LinkSend.status == "recorded",
            LinkSend.kind.in_(("response", "hotel_notice")))))
    if not ids:
        return 0
    try:
        with _one_at_a_time, open_outbox(settings, sessions) as outbox:
            report = sending.deliver(sessions, outbox, send_ids=ids)
    except Exception:  # noqa: BLE001 - never fail a PSP notification because of e-mail
        log.exception("messages of request %s not handed over now; the send sensor will retry", request_id)
        return 0
    for problem in report.problems:
        log.warning("request %s: %s", request_id, problem)
    return report.sent
