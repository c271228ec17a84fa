"""`lettrage users`: the dashboard's users (add one, list them).

The password comes from LETTRAGE_USER_PASSWORD or is asked for twice at a prompt; it is never
printed, and only its salted scrypt hash is stored.
"""

from __future__ import annotations

import os

ROLES = ("reception", "finance", "admin")  # access.ROLES, without importing the web stack
PASSWORD_ENV = "LETTRAGE_USER_PASSWORD"


def add_parser(sub) -> None:
    p = sub.add_parser("users", help="dashboard users: add one, list them")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    add = actions.add_parser("add", help=f"add a user (password from ${PASSWORD_ENV} or a prompt)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--hotels", default="*", help="hotel ids the user works for, comma-separated (default: all)")
    add.add_argument("--reset", action="store_true", help="the user exists: set this role, hotels and password")
    actions.add_parser("list", help="list the users, their roles and hotels")
    p.set_defaults(func=run)


def _password() -> str:
    from lettrage.cli import CommandError

    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        import getpass

        try:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password again: ") != password:
                raise CommandError("the two passwords differ; nothing was changed")
        except EOFError:
            raise CommandError(f"no password: set {PASSWORD_ENV} or run this at a terminal") from None
    return password


def run(args) -> int:
    from sqlalchemy import select

    from lettrage.cli import CommandError
    from lettrage.config import load_settings
    from lettrage.paylinks import store

    sessions = store.session_factory(load_settings().ops_store_url)
    if args.action == "list":
        with sessions() as s:
            for u in s.scalars(select(store.User).order_by(store.User.username)):
                state = "" if u.active else "  (deactivated)"
                print(f"{u.username:<20} {u.role:<10} {','.join(u.hotel_ids or ['*'])}{state}")
        return 0

    from lettrage.service.dashboard.passwords import WeakPassword, hash_password

    username = args.username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise CommandError(f"{args.username!r}: a username is 1 to 64 characters without spaces")
    hotels = [h.strip() for h in args.hotels.split(",") if h.strip()] or ["*"]
    try:
        password_hash = hash_password(_password())
    except WeakPassword as exc:
        raise CommandError(str(exc)) from None
    with store.transaction(sessions) as s:
        row = s.scalars(select(store.User).where(store.User.username == username)).first()
        if row is not None and not args.reset:
            raise CommandError(f"user {username} already exists (--reset sets a new role, hotels and password)")
        if row is None:
            row = store.User(username=username, active=True)
            s.add(row)
        row.password_hash, row.role, row.hotel_ids, row.active = password_hash, args.role, hotels, True
        s.add(store.AuditEntry(username=os.environ.get("USER") or "command line",
                               action="user reset" if args.reset else "user added", target=f"user:{username}",
                               detail=f"role {args.role}, hotels {', '.join(hotels)} (lettrage users)"))
    print(f"{'Updated' if args.reset else 'Added'} user {username}: {args.role}, hotels {', '.join(hotels)}.")
    return 0
