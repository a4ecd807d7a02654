"""wslab.models.push: server push takes one transit (RFC 6202 §3.2)."""

from __future__ import annotations

import numpy as np
import pytest

from wslab import models as m


def test_push_latency_is_one_transit():
    # RFC 6202 §3.2: one transit
    assert m.push_latency(0.004) == pytest.approx(0.004)
    np.testing.assert_allclose(m.push_latency([0.001, 0.002]), [0.001, 0.002])
    # push beats the long-poll worst case by a factor 3
    assert m.long_poll_latency_bounds(0.004).max == pytest.approx(3 * m.push_latency(0.004))
