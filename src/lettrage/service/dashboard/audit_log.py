"""The audit log: every action, who did it and when, newest first."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from sqlalchemy import String, cast, func, literal, or_, select

from lettrage.paylinks import store
from lettrage.service.dashboard.desk import Desk
from lettrage.service.dashboard.desk import router as desk_router

router = desk_router()
PAGE_SIZE = 300


@router.get("/audit")
def audit_page(request: Request):
    desk = Desk.of(request)
    user = desk.require(request, "view_audit")
    q = request.query_params
    who, action, target = q.get("user", "").strip(), q.get("action", "").strip(), q.get("target", "").strip()
    A = store.AuditEntry
    where = []
    if who:
        where.append(A.username == who)
    if action:
        where.append(func.lower(A.action).like(f"%{action.lower()}%"))
    if target:
        where.append(func.lower(A.target).like(f"%{target.lower()}%"))
    try:
        day = dt.date.fromisoformat(q.get("date", ""))
        start = dt.datetime.combine(day, dt.time(), dt.UTC)
        where += [A.at >= start, A.at < start + dt.timedelta(days=1)]
    except ValueError:
        day = None
    if user.hotel_ids:
        # A finance user of some hotels sees what concerns them and what they did themselves.
        LR = store.LinkRequest
        theirs = select(literal("link_request:", String) + cast(LR.id, String)).where(LR.hotel_id.in_(user.hotel_ids))
        where.append(or_(A.target.in_(theirs), A.target.in_([f"hotel:{h}" for h in user.hotel_ids]),
                         A.username == user.username))
    with desk.sessions() as s:
        total = s.scalar(select(func.count()).select_from(A).where(*where))
        rows = s.scalars(select(A).where(*where).order_by(A.id.desc()).limit(PAGE_SIZE)).all()
    return desk.page(request, "audit.html", user, active="audit", rows=rows, total=total, page_size=PAGE_SIZE,
                     who=who, action=action, target=target, day=day)
