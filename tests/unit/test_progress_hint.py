"""The progress box says what Escape does now: cancel, or, once the host
cannot be reached or a step that cannot be taken back is done, only stop
waiting (the trial: a backup sat on "destroying the snapshot" for minutes
after the master died, saying nothing of the lost connection)."""

import threading
from types import SimpleNamespace

from textual.app import App
from textual.widgets import Static

from tests.waiting import until
from xstui.services.actions import Action, Plan, RunContext
from xstui.widgets.progress import COMMITTED_HINT, HINT, LOST_HINT, TaskProgressModal


class Waits(Action):
    needs_connection = False

    def __init__(self) -> None:
        self.go_on, self.commit_now = threading.Event(), threading.Event()

    def plan(self) -> Plan:
        return Plan(title="Wait", summary="", xe=["xe wait"])

    def run(self, ctx: RunContext) -> str:
        self.commit_now.wait(30)
        ctx.commit()
        self.go_on.wait(30)
        return "done"


class Host(App):
    def on_worker_state_changed(self, event) -> None:  # what XstuiApp says of workers
        pass


async def test_escape_says_what_it_does_as_the_connection_and_the_run_change():
    conn = SimpleNamespace(
        state="connected", target=SimpleNamespace(url="http://127.0.0.1:1"), user="root"
    )
    action = Waits()
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        modal = TaskProgressModal(action, conn)
        app.push_screen(modal)

        def hint() -> str:
            shown = modal.query("#task-hint")
            return str(shown.first(Static).render()) if shown else ""

        try:
            await until(pilot, lambda: hint() == HINT, what="cancel")
            conn.state = "reconnecting"
            await until(pilot, lambda: hint() == LOST_HINT, what="the lost connection said")
            conn.state = "connected"
            action.commit_now.set()
            await until(pilot, lambda: hint() == COMMITTED_HINT, what="what is done stays")
        finally:
            action.commit_now.set()
            action.go_on.set()
