"""The payment-link tests' servers and hotel (tests/paylinks/servers.py), as fixtures."""

from tests.paylinks.servers import links_env, smtp_server, twilio_api  # noqa: F401
