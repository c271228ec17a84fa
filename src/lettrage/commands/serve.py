"""`lettrage serve`: the payment service (links, PSP notifications, SMS callbacks) with uvicorn."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="run the payment service: /l/<token> links, PSP notifications, dashboard")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None,
                   help="port (default: the one of LETTRAGE_PUBLIC_BASE_URL, else 8000)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=run)


def run(args) -> int:
    from urllib.parse import urlsplit

    import uvicorn

    from lettrage.cli import CommandError
    from lettrage.config import load_settings
    from lettrage.service.app import create_app

    settings = load_settings()
    port = args.port if args.port is not None else (urlsplit(settings.public_base_url).port or 8000)
    if not 0 < port < 65536:
        raise CommandError(f"port {port} is not a TCP port")
    app = create_app(settings)
    print(f"lettrage service on http://{args.host}:{port} (links at {settings.public_base_url}/l/...; "
          f"PSP {settings.psp_provider}, notifications at /psp/{settings.psp_provider}/...)", flush=True)
    uvicorn.run(app, host=args.host, port=port, log_level=args.log_level, proxy_headers=True)
    return 0
