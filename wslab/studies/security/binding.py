"""Section 5 of notebook 10: servers bind loopback only (C10).

`wslab.core.addresses.check_loopback` is the one check: `Lab` calls it in its
constructor, before any process starts, so a server can never listen on a
routable address; there is no option to allow one.
"""

from __future__ import annotations

import pandas as pd

from ...core.errors import ConfigError
from ...runner.lab import Lab

__all__ = ["BIND_HOSTS", "binding_table"]

#: host -> is it loopback (the expected outcome: accepted)
BIND_HOSTS = {"127.0.0.1": True, "::1": True, "localhost": True, "127.0.0.2": True,
              "0.0.0.0": False, "::": False, "192.0.2.10": False, "example.com": False}


def binding_table() -> pd.DataFrame:
    """For each host of `BIND_HOSTS`, a `Lab` is constructed (not started): accepted
    (and the address it would bind) or refused with the error's text."""
    rows = []
    for host, loopback in BIND_HOSTS.items():
        try:
            lab = Lab(host=host)
            got, text = "accepted", f"binds {lab.host}"
        except ConfigError as exc:
            got, text = "refused", str(exc)
        expected = "accepted" if loopback else "refused"
        rows.append({"host": host, "expected": expected, "outcome": got,
                     "verdict": "as expected" if got == expected else "differs",
                     "message": text})
    return pd.DataFrame(rows)
