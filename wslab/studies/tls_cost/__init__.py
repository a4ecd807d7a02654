"""TLS's steady-state costs (issue 10 §2): each transport in clear and over TLS 1.3.

Notebook 09, section "TLS costs". Theory of operation: one `wslab.Experiment`
(`experiment`) runs every transport of the `Plan` in clear and over TLS 1.3
(one server per setting), repeats with distinct seeds, and within a repeat the
clear and the TLS run share the seed, hence the same event bodies. Three trial
shapes per transport and setting: ``n_small`` clients for a short and a long
run, and ``n_large`` clients for the long run.

- *bytes per event* (`bytes_table`): the slope of one client's kernel-counted
  bytes (up + down) over the events it received, between the short and the
  long run of a repeat. The slope leaves out what a connection costs once
  (handshake, certificate, session tickets, close_notify; handshakes are
  section 1's), so TLS minus clear is the record overhead alone, beside the
  model 22 B x records per event (RFC 8446 §5.2; one record per write:
  an event down, a request up, `wslab.core.tls.record_overhead`);
- *CPU per delivery* (`cpu_table`), server and client processes, from the long
  runs, mean and t interval over repeats;
- *memory per connection* (`memory_table`): the least-squares slope of the
  server's RSS growth (RSS when the clients are connected less RSS before)
  over N, every run a point, as notebook 05 fits it; a t interval on the
  slope. In full mode every run has a fresh server (``Plan.fresh``), since a
  server that served earlier runs reuses the memory they freed. asyncio
  gives every TLS connection its own buffers (`asyncio.sslproto`), so the
  slope is expected to be steeper over TLS.

Each table sets TLS minus clear beside the clear and TLS values; `check_table`
gives the record model with computed verdicts.
"""

from .figures import tls_figure
from .tables import (
    bytes_table,
    check_records,
    cpu_table,
    memory_table,
    per_client_bytes,
    tls_conclusions,
)
from .trials import Plan, experiment, plan

__all__ = ["Plan", "bytes_table", "check_records", "cpu_table", "experiment",
           "memory_table", "per_client_bytes", "plan", "tls_conclusions", "tls_figure"]
