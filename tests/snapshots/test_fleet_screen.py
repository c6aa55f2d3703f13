"""The fleet overview at 80x24: four simulated pools saved in the config,
every row loaded (the clock fixed: certificates' days left read the same on
any day; no URL or port on screen)."""

import pytest
import yaml
from xstui.screens.fleet import FleetScreen

from tests.waiting import until
from xstui.app import XstuiApp
from xstui.sim.fleet import start_fleet


@pytest.fixture
def saved_fleet(tmp_path, monkeypatch):
    fleet = start_fleet("fleet:4,1,2", password="snapshot")
    config = tmp_path / "config" / "xstui" / "config.yaml"
    config.parent.mkdir(parents=True)
    targets = [{"url": p.url, "name": p.name, "group": "sim"} for p in fleet.pools]
    config.write_text(yaml.safe_dump({"targets": targets}))
    monkeypatch.setenv("XSTUI_PASSWORD", "snapshot")
    yield fleet
    fleet.close()


def test_fleet_80x24(snap_compare, saved_fleet):
    async def run_before(pilot):
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet")
        await until(
            pilot,
            lambda: (
                all(r.hosts_total for r in app.fleet.rows.values())
                and len(app.screen.rows) == 4
                and all(r.hosts_total for r in app.screen.rows)
            ),
            what="every pool's row",
        )
        await pilot.pause()

    assert snap_compare(XstuiApp(), terminal_size=(80, 24), run_before=run_before)
