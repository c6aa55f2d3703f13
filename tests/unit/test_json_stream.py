"""The event stream's JSON, parsed as it arrives (xstui.xapi.jsonrpc.JsonStream):
the same values and the same object_hook calls as json.loads, however the
bytes are cut; what is not JSON refused as json.loads refuses it."""

from __future__ import annotations

import io
import json

import pytest

from xstui.areas import watched_types
from xstui.xapi.cache import Cache
from xstui.xapi.jsonrpc import JsonStream
from xstui.xapi.transport import ReplyTooLarge

REPLY = {
    "jsonrpc": "2.0",
    "result": {
        "events": [
            {
                "id": str(i),
                "class": "VM",
                "operation": "add",
                "ref": f"OpaqueRef:{i}",
                "snapshot": {
                    "name_label": f"é✓𝄞 vm {i}",
                    "resident_on": "OpaqueRef:host-1",
                    "power_state": "Running",
                    "memory_target": str(i << 20),
                    "VIFs": [f"OpaqueRef:vif-{i}"],
                },
            }
            for i in range(40)
        ],
        "valid_ref_counts": {"VM": 40},
        "token": "00000000000000000123,00000000000000000000",
    },
    "id": 7,
}


def reader(data: bytes, size: int):
    f = io.BytesIO(data)
    return lambda n: f.read(min(n, size))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64, 4096, 1 << 20])
def test_the_same_values_however_the_bytes_are_cut(size):
    data = json.dumps(REPLY, ensure_ascii=False).encode()  # multibyte characters cut too
    assert JsonStream(reader(data, size)).document() == REPLY
    # the cache's hook turns each snapshot into its record as it is parsed
    cache = Cache(watched_types())
    reply = JsonStream(reader(data, size), cache.event_hook).document()
    events = reply["result"]["events"]
    assert [ev["record"].name_label for ev in events] == [f"é✓𝄞 vm {i}" for i in range(40)]
    assert all("snapshot" not in ev for ev in events)
    # refs are kept once: every VM's resident_on is the same string
    assert len({id(ev["record"].resident_on) for ev in events}) == 1


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b'{"a": 1', b'{"result": {"events": [1, 2}}', b'{"a": 1} x', b"[1,]", b"\xff{}"],
)
def test_what_is_not_json_is_refused(data):
    with pytest.raises(ValueError):
        JsonStream(reader(data, 3)).document()
    with pytest.raises(ValueError):
        json.loads(data)


def test_a_reply_larger_than_the_cap_is_refused():
    data = json.dumps(REPLY).encode()
    with pytest.raises(ReplyTooLarge):
        JsonStream(reader(data, 100), cap=len(data) // 2).document()
