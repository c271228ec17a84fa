"""Who may do what on the dashboard. Checked on the server for every page and every action."""

from __future__ import annotations

ROLES = ("reception", "finance", "admin")

# permission -> roles holding it. Admin holds every permission.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view_requests": frozenset(ROLES),
    "create_request": frozenset({"reception", "admin"}),
    "send_request": frozenset({"reception", "admin"}),
    "approve_sends": frozenset({"reception", "admin"}),
    "capture": frozenset({"finance", "admin"}),
    "release": frozenset({"finance", "admin"}),
    "refund": frozenset({"finance", "admin"}),
    "mark_posted": frozenset({"finance", "admin"}),
    "export": frozenset({"finance", "admin"}),
    "view_audit": frozenset({"finance", "admin"}),
    "manage_users": frozenset({"admin"}),
    "manage_templates": frozenset({"admin"}),
    "manage_rules": frozenset({"admin"}),
}


def allowed(role: str | None, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def sees_hotel(hotel_ids: list[str] | tuple[str, ...], hotel_id: str) -> bool:
    """A user bound to hotels sees only theirs; no hotel listed means the whole group."""
    return not hotel_ids or hotel_id in hotel_ids
