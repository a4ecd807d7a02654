import numpy as np
import pandas as pd

from wslab.runner.summary import delivery_accounting, first_deliveries, summarize


def _msgs(rows):
    return pd.DataFrame(rows, columns=["client_id", "seq", "published_ns", "received_ns"])


def test_accounting_counts_loss_duplicates_and_reordering():
    # client 0 gets 1,2,3; client 1 gets 1,3,2,3 (2 arrives after 3; the second 3 is a duplicate) and misses nothing;
    # client 2 gets only 1 (two lost)
    m = _msgs([
        (0, 1, 0, 10), (0, 2, 0, 10), (0, 3, 0, 10),
        (1, 1, 0, 10), (1, 3, 0, 10), (1, 2, 0, 10), (1, 3, 0, 10),
        (2, 1, 0, 10),
    ])
    a = delivery_accounting(m, published=3, clients=3)
    assert a == {"expected": 9, "delivered": 7, "lost": 2, "duplicated": 1, "out_of_order": 1}
    assert len(first_deliveries(m)) == 7


def test_summarize_latency_skips_warmup_and_duplicates():
    start = 1_000_000_000
    # event k published at start + k ms, delivered 100 us later; a duplicate arrives late
    rows = [(0, k, start + k * 1_000_000, start + k * 1_000_000 + 100_000) for k in range(1, 101)]
    rows.append((0, 50, start + 50_000_000, start + 90_000_000_000))  # duplicate, huge latency
    m = _msgs(rows)
    conns = pd.DataFrame([{"client_id": 0, "conn_index": 0, "bytes_up": 200, "bytes_down": 10_000,
                           "segs_up": 5, "segs_down": 9, "requests": 5, "responses": 4,
                           "empty_responses": 1}])
    server = {"cpu_s": 0.5, "rss_start": 1, "rss_peak": 2}
    fleet = {"cpu_s": 0.25, "rss_peak": 3, "stalled_clients": 0, "client_errors": 0}
    s = summarize(m, conns, published=100, clients=1, publish_start_ns=start,
                  publish_end_ns=start + 100_000_000, warmup_s=0.0105, server=server,
                  fleets=[fleet])
    assert s["delivered"] == 100 and s["duplicated"] == 1 and s["lost"] == 0
    assert s["latency_count"] == 90  # events 11..100 are after the 10.5 ms warm-up
    assert s["latency_us"]["max"] == 100 and s["latency_us"]["p50"] == 100
    assert s["bytes_down_per_event"] == 100.0 and s["requests_per_event"] == 0.04
    assert s["empty_fraction"] == 0.25
    # the fifth request was still held at stop: sent (bytes), but no response
    assert s["requests"] == 5 and s["responses"] == 4 and s["in_flight_at_stop"] == 1
    assert s["server_cpu_us_per_event"] == 5000.0
    assert s["achieved_rate"] == np.float64(1000.0)
