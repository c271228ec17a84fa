"""The Dagster UI over an instance that has a run: the whole lineage loads in the browser, the
latest materialisation shows on its asset, and the graph is kept as a screenshot."""

from __future__ import annotations

import datetime as dt
import json
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import ProcessServer, free_port, screenshot

BIN = Path(sys.executable).parent


def test_dagster_ui_shows_the_lineage_and_the_latest_run(browser, tmp_path):
    var = tmp_path / "var"
    home = var / "dagster_home"
    (var / "inbox").mkdir(parents=True)
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (var / "inbox" / "hotels.csv").write_text("hotel_id,name,timezone,currency,night_audit_time,pms_system\n"
                                              "H1,Hôtel Lutèce,Europe/Paris,EUR,03:00,opera\n", encoding="utf-8")
    env = {"DAGSTER_HOME": str(home), "LETTRAGE_VAR_DIR": str(var)}
    port = free_port()
    server = ProcessServer([str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                           f"http://127.0.0.1:{port}", "/server_info", env=env, log=tmp_path / "webserver.log",
                           timeout=180).start()
    try:
        day = _a_run(home, var)  # while the UI loads the code location
    except BaseException:
        server.__exit__()
        raise
    with server as ui:
        context = browser.new_context(viewport={"width": 2600, "height": 1500})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(ui.url + "/asset-groups")
        page.wait_for_selector("text=Global asset lineage")
        page.get_by_text("ingest", exact=True).first.wait_for()
        _dismiss_welcome(page)
        # Every group open, top to bottom: the whole graph fits the screen once the page is reloaded.
        _graph_option(page, "Expand all groups")
        _graph_option(page, "Change graph to vertical orientation")
        page.reload()
        _dismiss_welcome(page)
        nodes = _asset_nodes(ui.url)
        assert {"hotels", "pms_postings", "link_requests"} <= {name for name, _ in nodes}
        page.get_by_text("hotels", exact=True).first.wait_for()
        drawn = page.locator("body").text_content()
        # Every asset is drawn; long names are shortened in the middle ("installme…charges").
        missing = [name for name, _ in nodes if name not in drawn and not (name[:4] in drawn and name[-8:] in drawn)]
        assert not missing, missing
        panel = page.locator("[aria-label=panel_show_right]")
        if panel.count():
            panel.first.click()  # hide the asset tree: more room for the graph
        page.wait_for_timeout(1500)
        shot = screenshot(page, "dagster-lineage", doc=True, full_page=False)
        assert shot.stat().st_size > 20_000

        page.goto(ui.url + "/assets/hotels")
        page.wait_for_selector("text=Latest materialization")
        page.get_by_text(day).first.wait_for()  # the partition our run materialised
        assert "H1" in page.inner_text("body")  # the settings table from the run's metadata
        screenshot(page, "dagster-hotels-asset", full_page=False)
        context.close()


def _a_run(home: Path, var: Path) -> str:
    """A real run of the `hotels` asset recorded in the instance at `home`; returns its partition."""
    import dagster as dg

    from lettrage.assets.ingest import hotels
    from lettrage.resources import build_resources

    day = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LETTRAGE_VAR_DIR", str(var))
        env.setenv("DAGSTER_HOME", str(home))
        from lettrage.config import load_settings

        with dg.DagsterInstance.from_config(str(home)) as instance:
            result = dg.materialize([hotels], partition_key=day, instance=instance,
                                    resources=build_resources(load_settings()))
    assert result.success
    return day


def _asset_nodes(url: str) -> list[tuple[str, str]]:
    """(name, group) of every asset the code location defines, asked of the webserver's GraphQL API."""
    query = json.dumps({"query": "{ assetNodes { assetKey { path } groupName } }"}).encode()
    req = urllib.request.Request(url + "/graphql", data=query, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        nodes = json.load(resp)["data"]["assetNodes"]
    return [(n["assetKey"]["path"][-1], n["groupName"]) for n in nodes]


def _graph_option(page, name: str) -> None:
    """An option of the graph's context menu, opened on an empty corner of the canvas."""
    skip = page.get_by_role("button", name="Skip")
    if skip.is_visible():
        skip.click()
    box = page.locator("[aria-label=zoom_in]").first.bounding_box()  # the zoom controls: bottom right
    page.mouse.click(box["x"] - 150, box["y"] - 100, button="right")
    page.get_by_role("menuitem", name=name).click()
    page.wait_for_timeout(500)


def _dismiss_welcome(page) -> None:
    """The UI greets a new browser with a community dialog: skip it."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=8_000)
        skip.click()
    except Exception:  # noqa: BLE001 - not shown this time
        pass

