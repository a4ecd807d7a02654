"""The fleet in-process: loopback source addresses and its tables."""

import asyncio

import psutil

import wslab
from wslab.runner.fleet import CLIENTS_PER_SOURCE, Fleet, source_address


def test_source_addresses_step_every_block():
    assert source_address(0, "127.0.0.1") is None
    assert source_address(CLIENTS_PER_SOURCE - 1, "127.0.0.1") is None
    assert source_address(CLIENTS_PER_SOURCE, "127.0.0.1") == "127.0.0.2"
    assert source_address(2 * CLIENTS_PER_SOURCE + 5, "127.0.0.1") == "127.0.0.3"
    assert source_address(CLIENTS_PER_SOURCE, "::1") is None  # IPv6 loopback is one address


def test_clients_past_the_first_block_connect_from_another_address():
    with wslab.Lab() as lab:
        lab.server.request("reset")

        async def main():
            fleet = Fleet("tcp", lab.urls["tcp"], clients=3, first_client=CLIENTS_PER_SOURCE)
            await fleet.connect()
            ours = [c for c in psutil.Process().net_connections("tcp")
                    if c.raddr and c.raddr.port == int(lab.urls["tcp"].rsplit(":", 1)[1])]
            await fleet.stop()
            return fleet, ours

        fleet, conns = asyncio.run(main())
    assert len(conns) == 3 and {c.laddr.ip for c in conns} == {"127.0.0.2"}
    table = fleet.connections_table().to_pandas()
    assert sorted(table.client_id) == [CLIENTS_PER_SOURCE + k for k in range(3)]
    assert fleet.messages_table().num_rows == 0  # nothing was published
