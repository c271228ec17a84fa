"""`lettrage psp-simulator` and `lettrage serve` as a person starts them: real processes, free
ports, stopped by their PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from lettrage.paylinks.psp import ogone
from lettrage.service.serving import free_port


def start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lettrage", *args], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def ready(proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode())
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    stop(proc)
    raise AssertionError(f"nothing answered on {url}")


def stop(proc: subprocess.Popen) -> str:
    os.killpg(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out.decode()


def test_simulator_and_service_processes(var_dir):
    psp_port, service_port = free_port(), free_port()
    env = {"LETTRAGE_VAR_DIR": str(var_dir), "LETTRAGE_OGONE_PSPID": "CLIHOTEL", "LETTRAGE_OGONE_SHA_IN": "cli-in-pass",
           "LETTRAGE_OGONE_ALGORITHM": "sha256", "LETTRAGE_PUBLIC_BASE_URL": f"http://127.0.0.1:{service_port}",
           "LETTRAGE_OGONE_SHA_OUT": "cli-out-pass", "DISABLE_PANDERA_IMPORT_WARNING": "True"}
    sim = start(["psp-simulator", "--port", str(psp_port), "--duplicates", "1"], env)
    service = start(["serve", "--port", str(service_port)], env)
    try:
        ready(sim, f"http://127.0.0.1:{psp_port}/")
        ready(service, f"http://127.0.0.1:{service_port}/healthz")
        home = httpx.get(f"http://127.0.0.1:{psp_port}/")
        assert "CLIHOTEL" in home.text and "4000000000003220" in home.text
        account = ogone.OgoneAccount("CLIHOTEL", f"http://127.0.0.1:{psp_port}/ncol/test", "cli-in-pass", "", "sha256")
        form = ogone.hosted_page(account, order_id="CLI-1", amount_cents=1000, currency="EUR", language="en",
                                 accept_url="a", decline_url="b", exception_url="c", cancel_url="d").fields
        assert httpx.post(account.url("orderstandard.asp"), data=form).status_code == 200
        forged = httpx.post(account.url("orderstandard.asp"), data={**form, "AMOUNT": "1"})
        assert forged.status_code == 400 and "unknown order/1/s" in forged.text
        # The service refuses a notification the PSP did not sign, and an unknown link.
        assert httpx.post(f"http://127.0.0.1:{service_port}/psp/ogone/notify",
                          data={"orderID": "CLI-1", "STATUS": "9", "SHASIGN": "0" * 64}).status_code == 403
        assert httpx.get(f"http://127.0.0.1:{service_port}/l/not-a-token").status_code == 404
    finally:
        sim_out, service_out = stop(sim), stop(service)
    assert "PSP simulator (Ogone protocol, PSPID CLIHOTEL)" in sim_out
    assert f"lettrage service on http://127.0.0.1:{service_port}" in service_out
    assert "cli-in-pass" not in sim_out + service_out and "cli-out-pass" not in sim_out + service_out
