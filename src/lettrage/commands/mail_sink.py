"""`lettrage mail-sink`: a local SMTP server that writes every message it receives to var/mail/.

Point LETTRAGE_SMTP_HOST=127.0.0.1 and LETTRAGE_SMTP_PORT at it to watch what lettrage sends
(without them, `links send-due` and the Dagster runs start one of their own for each batch).
"""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("mail-sink", help="run a local SMTP server writing what it receives to var/mail/")
    p.add_argument("--port", type=int, default=2525, help="port on 127.0.0.1 (default 2525; 0 = any free port)")
    p.add_argument("--dir", default=None, help="where to write the messages (default: var/mail)")
    p.set_defaults(func=run)


def run(args) -> int:
    import threading
    from pathlib import Path

    from lettrage.cli import CommandError
    from lettrage.config import load_settings
    from lettrage.paylinks.notify.mail_sink import MailSink

    folder = Path(args.dir) if args.dir else load_settings().mail_dir
    sink = MailSink(folder, port=args.port or None)
    try:
        sink.start()
    except (OSError, RuntimeError) as exc:
        raise CommandError(f"cannot listen on 127.0.0.1:{args.port}: {exc}") from None
    print(f"Listening on 127.0.0.1:{sink.port}; writing each message to {folder} (Ctrl-C stops).", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()
    return 0
