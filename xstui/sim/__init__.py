"""The embedded XAPI simulator (no Textual here)."""

# what ``xstui sim-ctl`` asks of a running simulator (xstui.sim.control), known
# to the command line without the simulator; the metrics ones make a host's
# performance data (rrd_updates...) fail, come back as garbage, slowly, or work again
METRICS_ACTIONS = ("metrics-fail", "metrics-garbage", "metrics-slow", "metrics-ok")
CONTROL_ACTIONS = (
    "hosts",
    "kill-host",
    "revive-host",
    "cut-heartbeat",
    "lose-statefile",
    "memory-step",
    "calls",
    *METRICS_ACTIONS,
)
