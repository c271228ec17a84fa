"""`lettrage psp-simulator`: a local PSP speaking the Ogone e-Commerce protocol (demos, tests)."""

from __future__ import annotations

import argparse


def _non_negative(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
        return value
    return parse


def add_parser(sub) -> None:
    # The alias keeps the module's name usable too (COMMANDS lists module names).
    p = sub.add_parser("psp-simulator", aliases=["psp_simulator"], help="run a local PSP speaking the Ogone protocol (hosted page, "
                                             "notifications, DirectLink)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_non_negative(int), default=None,
                   help="port (default LETTRAGE_PSP_SIMULATOR_PORT or 8010; 0 picks a free one)")
    p.add_argument("--notify-url", default=None,
                   help="post-sale URL for notifications (default <public base URL>/psp/ogone/notify)")
    p.add_argument("--notify-method", choices=["POST", "GET"], default="POST")
    p.add_argument("--notify-mode", choices=["deferred", "online"], default="deferred",
                   help="online: notify before redirecting the guest; deferred: after (default)")
    p.add_argument("--notify-delay", type=_non_negative(float), default=0.0, help="seconds before a deferred "
                                                                                  "notification")
    p.add_argument("--retries", type=_non_negative(int), default=4, help="further attempts when the service "
                                                                         "does not answer 2xx (default 4)")
    p.add_argument("--retry-delay", type=_non_negative(float), default=2.0, help="seconds between attempts")
    p.add_argument("--duplicates", type=_non_negative(int), default=0, help="extra copies of every notification")
    p.add_argument("--stale-pending", action="store_true", help="also send a late '99 being processed' status")
    p.set_defaults(func=run)


def run(args) -> int:
    import uvicorn

    from lettrage.config import load_settings
    from lettrage.paylinks.psp.simulator import Simulator, SimulatorSettings
    from lettrage.service.serving import free_port

    settings = load_settings()
    sim_settings = SimulatorSettings.from_settings(
        settings, notify_url=args.notify_url, notify_method=args.notify_method, notify_mode=args.notify_mode,
        notify_delay=args.notify_delay, notify_retries=args.retries, retry_delay=args.retry_delay,
        duplicates=args.duplicates, stale_pending=args.stale_pending)
    port = settings.psp_simulator_port if args.port is None else args.port
    port = port or free_port(args.host)
    print(f"PSP simulator (Ogone protocol, PSPID {sim_settings.pspid}) on http://{args.host}:{port}/ncol/test/ ; "
          f"notifications to {sim_settings.notify_url or '(none)'}", flush=True)
    uvicorn.run(Simulator(sim_settings).app, host=args.host, port=port, log_level="warning")
    return 0
