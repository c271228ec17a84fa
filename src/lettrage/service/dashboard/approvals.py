"""Step-by-step mode: the requests the link rules made wait here until reception approves them,
one at a time (reading the message the guest will get) or as a batch."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from lettrage.paylinks import store
from lettrage.service.dashboard import queries
from lettrage.service.dashboard.desk import Desk, Refused
from lettrage.service.dashboard.desk import router as desk_router
from lettrage.service.dashboard.link_requests import request_id_list

router = desk_router()


def _waiting(s, user) -> list:
    LR = store.LinkRequest
    return list(s.scalars(select(LR).where(queries.visible(user), LR.status == "pending_approval")
                          .order_by(LR.send_after, LR.id)))


@router.get("/approvals")
def approvals_page(request: Request):
    desk = Desk.of(request)
    user = desk.require(request, "approve_sends")
    with desk.sessions() as s:
        waiting = _waiting(s, user)
        current = waiting[0] if waiting else None
        preview, problem = desk.preview(s, current) if current else (None, None)
        return desk.page(request, "approvals.html", user, active="approvals", waiting=waiting, current=current,
                         preview=preview, problem=problem)


@router.post("/approvals")
async def approve(request: Request):
    """Approve the requests ticked (or the one shown), then send them at once."""
    from lettrage.paylinks import requests as link_requests
    from lettrage.paylinks.status import StatusError

    desk = Desk.of(request)
    form = await request.form()
    user = desk.require(request, "approve_sends", dict(form))
    ids = request_id_list(form)
    if not ids:
        return desk.redirect("/approvals", ("error", "No request was selected."))
    with store.transaction(desk.sessions) as s:
        for rid in ids:
            queries.one_request(s, user, rid)  # refused unless the user's hotel
        try:
            link_requests.approve(s, ids, user.username)
        except (StatusError, LookupError) as exc:
            raise Refused(409, "Not approved", f"{exc}. Nothing was approved; reload the page.") from None
    sent = [await run_in_threadpool(desk.send_now, rid) for rid in ids]
    return desk.redirect("/approvals", ("ok", f"{len(ids)} request(s) approved. " + " ".join(sent)))


@router.post("/requests/{request_id}/send")
async def send_one(request: Request, request_id: int):
    """Reception sends a request now (approving it first in step-by-step mode)."""
    from lettrage.paylinks import requests as link_requests

    desk = Desk.of(request)
    user = desk.require(request, "send_request", dict(await request.form()))
    with store.transaction(desk.sessions) as s:
        req = queries.one_request(s, user, request_id)
        if req.status == "pending_approval":
            link_requests.approve(s, [request_id], user.username)
        elif req.status != "scheduled":
            raise Refused(409, "Not sent", f"Request {request_id} is {req.status}: only a request waiting to go out "
                                           "can be sent.")
    sent = await run_in_threadpool(desk.send_now, request_id)
    return desk.redirect(f"/requests/{request_id}", ("ok", sent))
