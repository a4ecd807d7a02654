"""The kernel's TCP counters: parsing, real readings, and a real failed connect."""

import socket

from wslab.core import netstat

SAMPLE = """TcpExt: SyncookiesSent ListenOverflows ListenDrops
TcpExt: 0 7 9
IpExt: InNoRoutes InOctets
IpExt: 0 123
"""


def test_parse_keeps_groups_and_names():
    got = netstat.parse_proc_table(SAMPLE)
    assert got == {"TcpExt.SyncookiesSent": 0, "TcpExt.ListenOverflows": 7,
                   "TcpExt.ListenDrops": 9, "IpExt.InNoRoutes": 0, "IpExt.InOctets": 123}
    assert netstat.parse_proc_table(SAMPLE, groups=("IpExt",)) == {"IpExt.InNoRoutes": 0,
                                                                   "IpExt.InOctets": 123}


def test_parse_skips_a_mismatched_pair_and_non_integers():
    text = "Tcp: RtoAlgorithm MaxConn\nTcp: 1 -1\nFoo: a\nBar: 1\n"
    assert netstat.parse_proc_table(text) == {"Tcp.RtoAlgorithm": 1, "Tcp.MaxConn": -1}
    assert netstat.parse_proc_table("Tcp: A B\nTcp: x 2\n") == {"Tcp.B": 2}


def test_real_counters_hold_the_storm_counters():
    now = netstat.read_counters()
    for name in netstat.STORM_COUNTERS:
        assert isinstance(now[name], int) and now[name] >= 0, name


def test_delta_counts_a_refused_connect_as_a_failed_attempt():
    # A port with no listener: the kernel answers the SYN with RST, which
    # RFC 1213's tcpAttemptFails counts (SYN-SENT -> CLOSED).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: refused
    before = netstat.read_counters()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    d = netstat.delta(before, netstat.read_counters(), netstat.STORM_COUNTERS)
    assert set(d) == set(netstat.STORM_COUNTERS)
    assert d["Tcp.AttemptFails"] >= 1 and d["Tcp.ActiveOpens"] >= 1


def test_delta_of_equal_readings_is_zero_and_missing_counts_as_zero():
    r = {"a": 3, "b": 5}
    assert netstat.delta(r, r) == {"a": 0, "b": 0}
    assert netstat.delta({}, {"a": 2}, ("a",)) == {"a": 2}
