"""Browsers (claim C11): notebook 11.

Theory of operation. `plan` builds one `wslab.Experiment` whose trials are
labelled by what they test: each browser transport consumed by the kit's
Python clients and by Chromium pages (``client="chromium"``,
`wslab.runner.browser_fleet`) on the same seeded stream; short polling from
Chromium with cookie jars and the Python client replaying Chromium's headers
(`wslab.core.profiles`); Chromium under connection resets. `tables` turns
the runs into means over repeats with 95 % t intervals and model checks with
computed verdicts (cookie bytes per poll, recovery after a reset);
`figures` draws latency and request heads. The per-host connection limit is
`wslab.runner.connlimit`'s probe, run as it is.
"""

from .figures import header_figure, latency_figure
from .limit import connlimit_frame, measure_connlimit
from .plan import BROWSER_TRANSPORTS, SESSION_COOKIE_BYTES, BrowserPlan, browser_plan, label_of
from .tables import (
    COOKIE_LINE_BYTES,
    EVENTSOURCE_RETRY_S,
    PAGE_BACKOFF_BASE_S,
    clock_table,
    compare_table,
    conclusions,
    fault_table,
    header_checks,
    header_table,
    recovery_checks,
    run_extras,
    tidy,
)

__all__ = ["BROWSER_TRANSPORTS", "COOKIE_LINE_BYTES", "EVENTSOURCE_RETRY_S",
           "PAGE_BACKOFF_BASE_S", "SESSION_COOKIE_BYTES", "BrowserPlan", "browser_plan",
           "clock_table", "compare_table", "conclusions", "connlimit_frame", "fault_table",
           "header_checks", "header_figure", "header_table", "label_of", "latency_figure",
           "measure_connlimit",
           "recovery_checks", "run_extras", "tidy"]
