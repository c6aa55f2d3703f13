"""Rollback runs every undo step, whatever one of them raises, and says each
problem in words; the audit line is written either way."""

import json
from types import SimpleNamespace

import pytest

from xstui.services.actions import Action, ActionFailed, Plan, RunContext
from xstui.xapi.config import state_dir


class ThreeSteps(Action):
    """Four steps done, each with its undo; two undos break, then the run fails."""

    def __init__(self, undone: list[str]):
        self.undone = undone

    def plan(self) -> Plan:
        return Plan(title="Three steps", summary="", xe=["xe step"])

    def run(self, ctx: RunContext) -> str:
        def undo(name: str, error: Exception | None):
            def step():
                self.undone.append(name)
                if error is not None:
                    raise error

            return step

        ctx.on_undo("undo first", undo("first", None))
        ctx.on_undo("undo second", undo("second", OSError(28, "No space left on device", "/x")))
        ctx.on_undo("undo third", undo("third", RuntimeError("the helper died")))
        ctx.on_undo("undo fourth", undo("fourth", None))
        raise ValueError("the last step failed")


def test_every_undo_runs_and_each_problem_is_said_in_words():
    conn = SimpleNamespace(target=SimpleNamespace(url="https://pool.example"), user="root")
    undone: list[str] = []
    with pytest.raises(ActionFailed) as failed:
        ThreeSteps(undone).execute(RunContext(conn=conn))
    assert undone == ["fourth", "third", "second", "first"]
    assert failed.value.undone == 2
    assert failed.value.undo_problems == [
        "could not undo third (the helper died)",
        "could not undo second (No space left on device: /x)",
    ]
    report = failed.value.undo_report()
    assert "Traceback" not in report and "No space left on device: /x" in report
    lines = (state_dir() / "audit.log").read_text().splitlines()
    entry = json.loads(lines[-1])
    assert entry["outcome"] == "failed" and entry["action"] == "Three steps"
    assert "the helper died" in entry["detail"] and "No space left" in entry["detail"]


class CommittedThenFails(Action):
    """A step that cannot be taken back, then a failure: nothing to undo, and
    the report must not say that nothing changed."""

    def plan(self) -> Plan:
        return Plan(title="Committed", summary="", xe=["xe step"])

    def run(self, ctx: RunContext) -> str:
        ctx.on_undo("undo the first step", lambda: None)
        ctx.commit()  # e.g. the backup file is written and kept
        raise ValueError("tidying failed")


def test_a_failure_after_the_point_of_no_return_does_not_say_nothing_changed():
    conn = SimpleNamespace(target=SimpleNamespace(url="https://pool.example"), user="root")
    with pytest.raises(ActionFailed) as failed:
        CommittedThenFails().execute(RunContext(conn=conn))
    assert failed.value.undone == 0
    report = failed.value.undo_report()
    assert "Nothing had been changed" not in report and "cannot be taken back" in report
