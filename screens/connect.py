"""Choose a target and log in; new or changed TLS certificates are shown and
must be trusted knowingly."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from xstui.login import console_connection
from xstui.widgets.footer import KeysFooter
from xstui.widgets.modal import buttons
from xstui.widgets.textfield import TextField
from xstui.xapi.connection import ConnectError
from xstui.xapi.targets import TargetError, in_dom0, parse_target

if TYPE_CHECKING:
    from xstui.services.actions import Plan


def trust_plan(err: ConnectError) -> Plan:
    """The question asked before pinning a certificate."""
    from xstui.services.actions import Plan

    host = err.target.host if err.target else "the host"
    check = [
        f"ssh root@{host} openssl x509 -in /etc/xensource/xapi-ssl.pem -noout -fingerprint -sha256"
    ]
    if err.pinned:
        return Plan(
            "Certificate changed",
            str(err),
            check,
            impact=[
                "Trusting replaces the fingerprint saved for this host.",
                "Only do this if the certificate was regenerated on purpose.",
            ],
            risk="high",
            confirm_word="trust",
        )
    return Plan(
        "Trust this host?",
        f"{err}\nCompare it with the fingerprint shown on the host's console.",
        check,
        impact=["The fingerprint is saved; a different certificate later will be refused."],
        risk="medium",
    )


class ConnectScreen(Screen):
    BINDINGS = [Binding("escape", "app.quit", "Quit", id="connect.quit")]
    BACK = "Quit"  # the way back's button, as Escape: its label and its action
    BACK_ACTION = "app.quit"

    def __init__(self, target: str = "", user: str = "root"):
        super().__init__()
        self.initial_target, self.initial_user = target, user

    def compose(self) -> ComposeResult:
        config = self.app.config
        with Vertical(id="connect-box"):
            yield Label("Connect to a XenServer / XCP-ng pool", classes="connect-title")
            options = [Option("demo - the built-in simulated pool", id="demo")]
            if in_dom0():
                options.insert(0, Option("local - this host (dom0)", id="local"))
            options += [Option(Text(url), id=f"saved:{url}") for url in config.targets]
            yield OptionList(*options, id="targets")
            with Grid(id="connect-fields"):
                yield Label("Target:")
                yield TextField(
                    self.initial_target,
                    id="target",
                    placeholder="https://pool-master, local or demo",
                    compact=True,
                )
                yield Label("User:")
                yield TextField(self.initial_user, id="user", placeholder="root", compact=True)
                yield Label("Password:")
                yield TextField(
                    os.environ.get("XSTUI_PASSWORD", ""),
                    id="password",
                    password=True,
                    placeholder="never stored",
                    compact=True,
                )
            yield Static("", id="connect-error", markup=False)
            # the way back and the way on, and what Enter and Escape do, as a dialog's
            yield buttons(
                Button(self.BACK, id="back", compact=True),
                Button("Connect", id="connect", variant="primary", compact=True),
            )
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#target" if not self.initial_target else "#password", Input).focus()
        if self.initial_target and (
            self.initial_target in ("demo", "local") or os.environ.get("XSTUI_PASSWORD")
        ):
            self.connect()

    @on(OptionList.OptionSelected, "#targets")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        value = str(event.option.id).removeprefix("saved:")
        self.query_one("#target", Input).value = value
        if value in ("demo", "local"):
            self.connect()
        else:
            self.query_one("#password", Input).focus()

    @on(Button.Pressed, "#back")
    async def _back(self) -> None:
        await self.run_action(self.BACK_ACTION)

    @on(Input.Submitted)
    @on(Button.Pressed, "#connect")
    def _submit(self) -> None:
        self.connect()

    def open_target(self, url: str, user: str, password: str) -> None:
        """Connect to ``url`` as if typed (the fleet's Enter); without a
        password, it is asked for here."""
        self.query_one("#target", Input).value = url
        self.query_one("#user", Input).value = user
        self.query_one("#password", Input).value = password
        self.show_error("")
        self.connect()

    def show_error(self, text: str) -> None:
        self.query_one("#connect-error", Static).update(text)

    @work(exclusive=True, exit_on_error=False, group="connect", description="connect")
    async def connect(self) -> None:
        text = self.query_one("#target", Input).value.strip()
        user = self.query_one("#user", Input).value.strip() or "root"
        password = self.query_one("#password", Input).value
        try:
            target = parse_target(text)
        except TargetError as exc:
            self.show_error(str(exc))
            return
        self.show_error("Connecting...")
        config = self.app.config
        if target.kind == "demo":
            demo = await self._in_thread(self.app.start_demo)
            target, password = demo.target, demo.password
        elif target.kind == "remote" and not password:
            self.show_error("Enter the password (it is never stored).")
            self.query_one("#password", Input).focus()
            return
        head_start, self.app.head_start = self.app.head_start, None  # used once
        if head_start is not None and head_start.fits(text, user, password):
            connection, login = head_start.connection, head_start.wait  # begun at start
        else:
            connection = console_connection(target, user, password, config)
            login = connection.login
        while True:
            try:
                await self._in_thread(login)
                break
            except ConnectError as err:
                login = connection.login  # from now on (a head start's is over)
                if await self._master_gone(connection, target, err):
                    continue  # a member took over: log in again, to it
                from xstui.widgets.plan import PlanModal

                if err.kind != "trust" or not await self.app.push_screen_wait(
                    PlanModal(trust_plan(err))
                ):
                    self.show_error(str(err))
                    return
                connection.fingerprints[err.target.trust_key] = err.fingerprint
                config.fingerprints[err.target.trust_key] = err.fingerprint
                if not config.save():
                    self.app.notify(
                        f"Trusted for this session only; the pin is not remembered: {config.problem}",
                        severity="warning",
                        timeout=12,
                    )
        self.app.opened(connection, text)

    async def _master_gone(self, connection, target, err) -> bool:
        """The host answered as a member and its master does not answer: offer
        the pool recovery on this member. True when a member took over."""
        from xstui.widgets.choice import ChoiceModal

        from .recovery import RecoveryModal

        if err.kind != "network" or err.target is None or err.target.host == target.host:
            return False
        self.show_error(str(err))
        answer = await self.app.push_screen_wait(
            ChoiceModal(
                "The pool master does not answer",
                f"{target.host} is a member of a pool whose master, {err.target.host}, does "
                "not answer. If the master is dead, this member can take over (pool recovery).",
                [("recover", "Pool recovery"), ("cancel", "Cancel")],
            )
        )
        if answer != "recover":
            return False
        hosts = ((err.target.host, err.target.host), [(target.host, target.host)])
        took_over = await self.app.push_screen_wait(
            RecoveryModal(connection=connection, hosts=hosts)
        )
        return bool(took_over)

    async def _in_thread(self, fn):
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(None, fn)
