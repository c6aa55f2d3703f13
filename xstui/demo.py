"""The ``demo`` target: the simulator started in-process on loopback with a
random port and password, then reached like any remote host."""

from __future__ import annotations

from dataclasses import dataclass

from .xapi.targets import Target, parse_target


@dataclass
class Demo:
    target: Target
    password: str
    running: object  # xstui.sim.runner.RunningSim

    def close(self) -> None:
        self.running.close()


def start_demo(scenario: str = "demo", latency_ms: float = 0) -> Demo:
    from .sim.runner import start_simulator

    running = start_simulator(scenario, latency_ms=latency_ms)
    return Demo(parse_target(running.url), running.password, running)
