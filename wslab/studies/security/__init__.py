"""Security (claim C10): notebook 10.

Theory of operation. The study is thin: the attacks live in
`wslab.net.hostile` and the limits in the transports. `origins` sends what a
browser page would send to every endpoint with no, the allowed and a foreign
``Origin``, allow-list off and on; `limits` sends oversize and compressed
messages and oversized request heads to each WebSocket library; `slowloris`
holds handshakes that never end and times each server's drop against its
timeout; `fuzzing` runs a seeded campaign on every endpoint beside a
bystander; `binding` shows the loopback-only rule. Each returns tables with
computed verdicts; `figures` draws the slowloris figure.
"""

from ._sync import (
    run_sync,
)
from .binding import (
    BIND_HOSTS,
    binding_table,
)
from .figures import (
    slowloris_figure,
)
from .fuzzing import (
    BENCHMARK_COMMAND,
    FuzzPlan,
    fuzz_checks,
    fuzz_plan,
    fuzz_table,
    malformed_served,
    measure_fuzz,
    wilson_ci,
)
from .limits import (
    BOMBS,
    HEAD_SERVERS,
    LIMIT_SERVERS,
    header_cases,
    measure_limits,
    message_cases,
)
from .origins import (
    ALLOWED,
    FOREIGN,
    HTTP_SERVERS,
    ORIGINS,
    WS_SERVERS,
    expected_answer,
    expected_read,
    measure_origins,
    origin_table,
    policy_options,
    read_table,
)
from .paths import (
    run_out,
)
from .slowloris import (
    AIOHTTP_DEFAULT_S,
    SlowlorisPlan,
    drop_check,
    held_over_time,
    measure_slowloris,
    slowloris_plan,
)
from .summary import (
    conclusions,
)

__all__ = [
    "AIOHTTP_DEFAULT_S",
    "ALLOWED",
    "BENCHMARK_COMMAND",
    "BIND_HOSTS",
    "BOMBS",
    "FOREIGN",
    "FuzzPlan",
    "HTTP_SERVERS",
    "HEAD_SERVERS",
    "LIMIT_SERVERS",
    "ORIGINS",
    "SlowlorisPlan",
    "WS_SERVERS",
    "binding_table",
    "conclusions",
    "drop_check",
    "expected_answer",
    "expected_read",
    "fuzz_checks",
    "fuzz_plan",
    "fuzz_table",
    "malformed_served",
    "header_cases",
    "held_over_time",
    "measure_fuzz",
    "measure_limits",
    "measure_origins",
    "measure_slowloris",
    "message_cases",
    "origin_table",
    "policy_options",
    "read_table",
    "run_out",
    "run_sync",
    "slowloris_figure",
    "slowloris_plan",
    "wilson_ci",
]
