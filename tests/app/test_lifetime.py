"""Nothing the console starts outlives it: a worker still waiting when the app
ends stops at once (a thread left waiting kept the test run from ending)."""

import threading

from tests.waiting import until, wait_for
from xstui.app import XstuiApp
from xstui.services.actions import Action, Plan, RunContext
from xstui.widgets.progress import TaskProgressModal


class WaitForever(Action):
    """An action that waits for a host that never comes back (as a rolling
    update waits up to 30 minutes for a reboot)."""

    def __init__(self) -> None:
        self.started, self.ended = threading.Event(), threading.Event()
        self.waited: bool | None = None

    def plan(self) -> Plan:
        return Plan("Wait for a host", "Waits for a host that never comes back.", [])

    def run(self, ctx: RunContext) -> str:
        self.started.set()
        try:
            self.waited = ctx.wait_until("waiting for the host", lambda: False, 1800)
        finally:
            self.ended.set()
        return "it came back"


async def test_quitting_ends_the_wait_of_a_running_action(connection):
    action = WaitForever()
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(TaskProgressModal(action, connection))
        await until(pilot, action.started.is_set, what="the action to start")
        assert not action.ended.is_set()
    # the app has ended: the wait stops at once (not after 30 minutes)
    wait_for(action.ended.is_set, timeout=10, what="the action's wait to end")
    assert action.waited is False
