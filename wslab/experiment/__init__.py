"""Experiments: sweeps of runs (a grid of parameters × repeats) as one tidy table.

>>> exp = Experiment("interval", grid={"transport": ["sse", "short-poll"],
...                                    "interval": [0.1, 0.5]},
...                  base={"clients": 10, "rate": 50, "duration": 5}, repeats=3)
>>> df = exp.run()                                          # doctest: +SKIP
>>> exp.aggregate()          # one row per trial, each metric with _low, _high, _n   # doctest: +SKIP
>>> exp.latency_ci(0.99)     # pooled p99 per trial, resampling whole runs           # doctest: +SKIP

Trials. ``grid`` is a dict of lists whose product gives the trials, or a list
of such dicts (their products one after the other: a conditional grid, e.g.
``[{"transport": ["sse"]}, {"transport": ["short-poll"], "interval": [0.1, 1]}]``).
``trials`` is a list of explicit parameter dicts, one trial each. Keys are
`RunConfig` field names (``out`` excepted, ``host`` only in ``base``); ``base``
holds the parameters every trial shares.

Parameters that do not apply are dropped when they come from ``grid`` or
``base`` (never from an explicit trial, where they are an error): ``interval``
for a transport without that option (anything but short-poll),
``options`` entries the transport does not know, and ``burst`` unless the
schedule is ``burst``. Trials that became identical are kept once, so
``{"transport": ["sse", "short-poll"], "interval": [0.1, 1]}`` is three trials,
not four.

Seeds. Unless ``seed`` is given (in the grid, a trial or ``base``; repeats then
share it), each trial's seed derives from the experiment's ``seed``, the
repeat number and the trial's *schedule* parameters only: ``schedule``,
``rate``, ``duration`` and (for ``schedule="burst"``) ``burst`` — exactly what
`wslab.core.events.schedule_offsets` draws the event times from. So within
one repeat every trial with the same schedule gets the same seed whatever
its transport, interval, clients, payload, options or delay: websocket and
SSE see the same Poisson stream (and the same payload bytes and jitter
draws), and comparisons between them are paired (`wslab.stats.ratio_ci`).
Different repeats get different seeds, hence independent schedules. The seed
is a stable function of these values: adding values to a grid leaves the
other trials' seeds unchanged. (Runs stored before this rule have other
seeds; resuming refuses them, see below.)

Repeats and intervals. ``repeats`` defaults to 1, which gives one run per
trial and no interval: that keeps single heavy runs (the scalability
notebook's 10,000 clients, idle long-poll memory) at their cost and existing
callers' trial lists as they are. Figures that compare transports
or check a model should set ``repeats`` (3 at least; `wslab.stats.runs_needed`
says how many for a given precision from a pilot's between-run spread):
`Experiment.aggregate` gives each metric's mean over repeats with a t interval,
`Experiment.latency_ci` a pooled latency statistic with a bootstrap over runs
(or clients, or events). Per-delivery rows are never taken as independent
(see `wslab.stats`).

Storage and resuming. Trial runs go to ``<root>/<trial-id>`` (default root:
``runs_dir() / name``), where the trial id is the transport and the trial's
own parameters plus the repeat, e.g. ``short-poll_interval=0.1_rep0``.
`Experiment.run` reuses every trial whose directory holds a complete run with
the same parameters (the seed included), and refuses (before starting
anything) a directory with different parameters or an incomplete run; hidden
temporary directories left by killed runs (`wslab.runner.store.temporary_dirs`)
are removed.

Every trial is validated when the `Experiment` is created: bad input raises
`ConfigError` before any process, file or directory exists.

Modules: `sweep` (`Experiment`), `trials` (`Trial`, parameter checks, trial
names and seeds) and `stored` (stored runs against trials, table rows). This
package re-exports `Experiment`, `Trial`, `METRICS` and `SCHEDULE_PARAMETERS`.
"""

from __future__ import annotations

from .pairs import duration_pairs
from .sweep import METRICS, Experiment
from .trials import SCHEDULE_PARAMETERS, Trial

__all__ = ["METRICS", "SCHEDULE_PARAMETERS", "Experiment", "Trial", "duration_pairs"]
