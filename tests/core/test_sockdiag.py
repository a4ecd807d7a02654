"""sock_diag reads the same kernel counters as getsockopt(TCP_INFO) on our own socket."""

import socket

from wslab.core.meter import tcp_info
from wslab.core.sockdiag import connections_to


def test_counters_of_a_connection_match_the_meter():
    with socket.create_server(("127.0.0.1", 0)) as server:
        host, port = server.getsockname()
        with socket.create_connection((host, port)) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"x" * 1000)
                got = b""
                while len(got) < 1000:
                    got += peer.recv(4096)
                peer.sendall(b"y" * 333)
                got = b""
                while len(got) < 333:
                    got += client.recv(4096)
                # read between two readings of our own: a delayed ACK may
                # leave in between and add a segment, never a byte
                before = tcp_info(client)
                found = connections_to(host, port)
                mine = tcp_info(client)
                key = client.getsockname()
    for name in ("bytes_up", "bytes_down", "segs_up", "segs_down"):
        assert getattr(before, name) <= getattr(found[key], name) <= getattr(mine, name)
    assert (found[key].bytes_up, found[key].bytes_down) == (1000, 333)
    assert (mine.bytes_up, mine.bytes_down) == (1000, 333)
    # the server's accepted end is not "connected to" the server's address
    assert list(found) == [key]


def test_no_connection_no_rows():
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert connections_to(*server.getsockname()) == {}
