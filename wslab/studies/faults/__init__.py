"""Faults and reconnects (claims C7 and C8): notebook 07.

Theory of operation. `middleboxes` runs every transport through each
middlebox profile of the impairment proxy (none, ``strip_upgrade``,
``buffer``, ``idle_cut`` with heartbeats below and above the cut,
``reset_peer``) and records what survives, what is lost and the reason of a
run that could not connect. `resume` resets connections periodically,
restarts the server and outlasts a small history. `storm` kills and restarts
the server under N WebSocket clients with three backoff policies and
measures the connect-rate peak, the kernel's accept-queue counters
(`wslab.core.netstat`), failed attempts and time until every client has
resumed. `checks` turns the runs into tables with 95 % intervals beside
`wslab.models.faults` with computed verdicts; `figures` draws the storm.
"""

from .checks import (
    IMMEDIATE_RETRY,
    check_buffer,
    check_idle_cut,
    check_recovery,
    conclusions,
    loss_check,
    middlebox_table,
    storm_table,
)
from .figures import (
    storm_figure,
)
from .middleboxes import (
    CLIENTS,
    PROFILES,
    TRANSPORTS,
    WORKERS,
    Profile,
    failure_reason,
    heartbeat_s,
    measure_middleboxes,
    middlebox_wall_s,
    row_of,
)
from .paths import run_out
from .resume import (
    HISTORY,
    RESUMING,
    ROUND_TRIPS,
    ResumePlan,
    loss_row,
    measure_resume,
    recoveries,
)
from .storm import (
    POLICIES,
    StormPlan,
    connect_rate,
    connect_times,
    measure_storm,
    storm_plan,
    storm_row,
)

__all__ = [
    "CLIENTS", "HISTORY", "IMMEDIATE_RETRY", "POLICIES", "PROFILES", "Profile", "RESUMING",
    "ROUND_TRIPS", "ResumePlan", "StormPlan", "TRANSPORTS", "WORKERS", "check_buffer", "check_idle_cut",
    "check_recovery", "conclusions", "connect_rate", "connect_times", "failure_reason",
    "heartbeat_s", "loss_check", "loss_row", "measure_middleboxes", "measure_resume",
    "measure_storm", "middlebox_table", "middlebox_wall_s", "recoveries", "row_of", "run_out",
    "storm_figure", "storm_plan", "storm_row", "storm_table"
]
