"""The night auditor's actions: mark paid requests POSTED (one or many) and export those not yet
posted for the PMS (CSV, OPERA-style XML)."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from fastapi.responses import Response

from lettrage.paylinks import store
from lettrage.paylinks.status import POSTABLE
from lettrage.service.dashboard import queries
from lettrage.service.dashboard.desk import Desk, DeskUser, Refused
from lettrage.service.dashboard.desk import router as desk_router
from lettrage.service.dashboard.export import to_csv, to_opera_xml
from lettrage.service.dashboard.link_requests import request_id_list

router = desk_router()


def mark_posted(s, user: DeskUser, request_ids: list[int]) -> tuple[list[int], list[str]]:
    """Move paid requests to POSTED; returns (posted ids, one line per request left as it was)."""
    from lettrage.paylinks.requests import move

    now = dt.datetime.now(dt.UTC)
    posted, skipped = [], []
    for rid in request_ids:
        req = s.get(store.LinkRequest, rid)
        if req is None or not user.sees(req.hotel_id):
            skipped.append(f"{rid}: no such request for your hotels")
            continue
        if req.status not in POSTABLE:
            skipped.append(f"{rid}: is {req.status}, not paid")
            continue
        move(req, "posted", now)
        req.posted_at, req.posted_by = now, user.username
        Desk.audit(s, user, "marked POSTED", f"link_request:{rid}", f"order {req.order_id}")
        posted.append(rid)
    return posted, skipped


@router.post("/requests/post")
async def post_many(request: Request):
    desk = Desk.of(request)
    form = await request.form()
    user = desk.require(request, "mark_posted", dict(form))
    ids = request_id_list(form)
    if not ids:
        return desk.redirect("/", ("error", "No request was selected."))
    with store.transaction(desk.sessions) as s:
        posted, skipped = mark_posted(s, user, ids)
    text = f"{len(posted)} request(s) marked POSTED." + (f" Left as they were: {'; '.join(skipped)}." if skipped else "")
    back = form.get("back") or "/"
    return desk.redirect(back if back.startswith("/") and not back.startswith("//") else "/",
                         ("ok" if posted else "error", text))


@router.post("/requests/{request_id}/post")
async def post_one(request: Request, request_id: int):
    desk = Desk.of(request)
    user = desk.require(request, "mark_posted", dict(await request.form()))
    with store.transaction(desk.sessions) as s:
        posted, skipped = mark_posted(s, user, [request_id])
    if not posted:
        raise Refused(409, "Not posted", f"Request {skipped[0]}.")
    return desk.redirect(f"/requests/{request_id}", ("ok", f"Request {request_id} marked POSTED."))


def _export(request: Request, kind: str) -> Response:
    desk = Desk.of(request)
    user = desk.require(request, "export")
    hotel = request.query_params.get("hotel", "")
    now = dt.datetime.now(dt.UTC)
    with store.transaction(desk.sessions) as s:
        rows = queries.paid_not_posted(s, user, hotel)
        Desk.audit(s, user, f"exported {kind}", f"hotel:{hotel or '*'}", f"{len(rows)} paid request(s) not posted")
    stamp = now.strftime("%Y%m%dT%H%M")
    if kind == "csv":
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="paid-not-posted-{stamp}.csv"'})
    return Response(to_opera_xml(rows, now), media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="opera-postings-{stamp}.xml"'})


@router.get("/export/paid-not-posted.csv")
def export_csv(request: Request):
    return _export(request, "csv")


@router.get("/export/paid-not-posted.xml")
def export_xml(request: Request):
    return _export(request, "xml")
