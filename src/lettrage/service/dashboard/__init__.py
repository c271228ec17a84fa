"""The front-desk dashboard: server-rendered pages under /dashboard for reception, finance and admin.

`router` is included by the service (`service/app.py`). Every page and action checks on the server
who is logged in (signed, expiring session cookie), their role (access.py) and, for every form,
the CSRF token bound to the session. Every action goes to the audit log.
"""

from fastapi import APIRouter

from lettrage.service.dashboard import admin, approvals, audit_log, link_requests, login, money, night_audit
from lettrage.service.dashboard.desk import PREFIX

router = APIRouter(prefix=PREFIX)
# night_audit before money: /requests/{id}/post is the night auditor's, not a money action.
for module in (login, link_requests, night_audit, money, approvals, audit_log, admin):
    router.include_router(module.router)

__all__ = ["router", "PREFIX"]
