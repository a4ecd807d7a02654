"""The negotiating client (`wslab.transports.fallback`) on a clean path.

Behind middleboxes (Upgrade stripped, responses buffered) it is tested in
tests/runner/test_faults.py, through the real impairment proxy.
"""

import pytest

from wslab import transports
from wslab.core.errors import ConfigError
from wslab.runner.lab import Lab


@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        yield lab


@pytest.mark.parametrize("order, kinds", [
    ("websocket,sse,long-poll", {"websocket"}),  # SignalR: the first that works
    ("sse,long-poll", {"sse"}),
    ("long-poll,websocket", {"long-poll", "websocket"}),  # Engine.IO: poll, then upgrade
])
def test_every_order_delivers_every_event_once(lab, tmp_path, order, kinds):
    run = lab.run("fallback", clients=3, rate=50, duration=1.5, options={"order": order},
                  out=str(tmp_path / "run"), progress=False)
    s = run.summary
    assert s["published"] > 0 and s["lost"] == 0 and s["duplicated"] == 0
    assert set(run.connections.kind) == kinds
    # on the upgrade path each client ends on the websocket (its last connection)
    last = run.connections.sort_values("opened_ns").groupby("client_id").kind.last()
    assert set(last) == {order.split(",")[-1] if order.startswith("long-poll")
                         else order.split(",")[0]}


@pytest.mark.parametrize("order", ["smoke", "websocket,websocket", "", "tcp,sse"])
def test_bad_orders_name_what_is_allowed(order):
    with pytest.raises(ConfigError, match="order must list distinct transports out of "
                                          "websocket, sse, long-poll"):
        transports.get("fallback").validate_options({"order": order})
