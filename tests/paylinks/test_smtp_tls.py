"""The SMTP relay over STARTTLS and over SSL, with a login: certificates are verified."""

import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from lettrage.paylinks.notify.mail_sink import free_port

from .links_setup import make_requests, send_due, sends
from .servers import SmtpHandler, reservation


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


class Relay(SmtpHandler):
    def __init__(self):
        super().__init__()
        self.sessions = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        implicit_tls = server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append((session.ssl is not None or implicit_tls, session.authenticated))
        return await super().handle_DATA(server, session, envelope)


def desk_login(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login, auth_data.password) == (b"desk", b"s3cret")
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_the_relay_gets_the_message_over_verified_tls_after_a_login(links_env, certificate, monkeypatch, mode):
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    relay, port = Relay(), free_port()
    tls = {"ssl_context": server_tls} if mode == "ssl" else {"tls_context": server_tls, "require_starttls": True}
    # aiosmtpd offers AUTH after STARTTLS only, not on implicit TLS: the test allows it, and checks
    # below that every message did travel encrypted.
    controller = Controller(relay, hostname="127.0.0.1", port=port, server_hostname="localhost",
                            authenticator=desk_login, auth_required=True, auth_require_tls=False, **tls)
    controller.start()
    try:
        for name, value in (("HOST", "localhost"), ("PORT", str(port)), ("TLS", mode), ("USER", "desk"),
                            ("PASSWORD", "wrong")):
            monkeypatch.setenv(f"LETTRAGE_SMTP_{name}", value)
        monkeypatch.setenv("LETTRAGE_LINK_RETRY_SECONDS", "0")
        settings, sessions = make_requests([reservation()])
        untrusted = send_due(settings, sessions)  # a certificate nobody vouches for: nothing is sent
        assert untrusted.retrying == 1 and "CERTIFICATE_VERIFY_FAILED" in sends(sessions)[0].error
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # our CA: now the server's certificate is trusted
        refused = send_due(settings, sessions)  # a wrong password keeps the message for later
        assert refused.retrying == 1 and "SMTP login refused for 'desk'" in sends(sessions)[0].error
        assert "wrong" not in sends(sessions)[0].error
        monkeypatch.setenv("LETTRAGE_SMTP_PASSWORD", "s3cret")
        from lettrage.config import load_settings

        assert send_due(load_settings(), sessions).sent == 1
        assert relay.sessions == [(True, True)] and len(relay.received) == 1
    finally:
        controller.stop()
