"""Each transport checks its own client options (`Transport.validate_options`)."""

import math

import pytest

from wslab import transports
from wslab.core.errors import ConfigError
from wslab.transports.long_poll import MAX_HOLD_S
from wslab.transports.reconnect import OPTIONS as RECONNECT
from wslab.transports.websocket import FANOUTS


def validate(name, **options):
    return transports.get(name).validate_options(options)


def test_defaults_are_merged_and_values_normalised():
    assert validate("tcp") == {}
    assert validate("websocket") == {"compression": False, "fanout": "broadcast"}
    assert validate("websocket", fanout="queue")["fanout"] == "queue"
    assert validate("short-poll", interval="0.25") == {"interval": 0.25, "headers": "aiohttp"}
    assert validate("long-poll", timeout=5)["timeout"] == 5.0
    assert validate("sse", ping=1, headers="browser") == {"ping": 1.0, "headers": "browser"}
    # every transport also takes the reconnect options (wslab.transports.reconnect);
    # their defaults stay out of the table, given ones are kept
    for name in transports.names():
        assert set(RECONNECT).isdisjoint(validate(name))
    assert validate("tcp", backoff="socketio", reconnect=False) == {
        "backoff": "socketio", "reconnect": False}
    # the caller's mapping is not modified
    options = {"interval": 2}
    transports.get("short-poll").validate_options(options)
    assert options == {"interval": 2}


@pytest.mark.parametrize("name, options, message", [
    ("tcp", {"interval": 1}, "unknown option(s) interval for tcp; allowed: reconnect, backoff,"),
    ("websocket", {"colour": "red", "angle": 1},
     "unknown option(s) angle, colour for websocket; allowed: compression, fanout, reconnect"),
    ("tcp", {"reconnect": "yes"}, "reconnect must be true or false, not 'yes'"),
    ("sse", {"backoff": "fast"}, "backoff must be one of kit, websockets, eventsource, socketio"),
    ("long-poll", {"backoff_jitter": "some"}, "backoff_jitter must be one of none, full, equal"),
    ("websocket", {"backoff_base": -1}, "backoff_base must be a number between 0 and 600"),
    ("tcp", {"backoff_factor": 0.5}, "backoff_factor must be a number between 1 and 600"),
    ("tcp", {"backoff_base": 5, "backoff_cap": 1}, "backoff_cap (1 s) must be at least"),
    ("websocket", {"fanout": "smoke"}, f"fanout must be {' or '.join(FANOUTS)}, not 'smoke'"),
    ("websocket", {"compression": "yes"}, "compression must be true or false"),
    ("short-poll", {"interval": 0}, "interval must be > 0 and <= 3600 for short-poll"),
    ("short-poll", {"interval": math.nan}, "interval must be > 0"),
    ("short-poll", {"interval": "soon"}, "interval must be a number of seconds"),
    ("long-poll", {"timeout": MAX_HOLD_S + 1}, f"timeout must be > 0 and <= {MAX_HOLD_S:g}"),
    ("sse", {"ping": -1}, "ping must be > 0"),
    ("long-poll", {"headers": "netscape"}, "headers must be one of aiohttp, browser"),
])
def test_bad_options_name_what_is_allowed(name, options, message):
    with pytest.raises(ConfigError) as info:
        validate(name, **options)
    assert message in str(info.value)
