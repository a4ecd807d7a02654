"""Run directories: written atomically, loaded with checks.

A run is a directory::

    <run>/manifest.json      parameters, seed, versions, machine, times, status
    <run>/summary.json       published, delivered, lost, latency_us, bytes, CPU...
    <run>/messages.parquet   one row per delivery: client_id, seq, published_ns, received_ns
    <run>/connections.parquet  one row per TCP connection: bytes and segments each
                             way (kernel counters), requests, empty responses

It is written into a hidden sibling ``.<name>.tmp-<pid>`` (`temporary_dir`)
and renamed into place only when complete (rename is atomic on one file
system), so a run that was killed never looks complete: `load` refuses
anything without a complete manifest. `temporary_dirs` and `temporary_owner`
find such leftovers and the process that was writing them, so callers never
re-derive the naming.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.errors import IncompleteRunError, WslabError

__all__ = ["Run", "RunWriter", "list_runs", "load", "temporary_dir", "temporary_dirs",
           "temporary_owner"]

FILES = ("manifest.json", "summary.json", "messages.parquet", "connections.parquet")
#: ``.<name>.tmp-<pid>``: hidden, so listings skip it; the pid tells whether
#: the writer is still alive.
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.tmp-(?P<pid>\d+)")


def temporary_dir(final: str | os.PathLike, pid: int | None = None) -> Path:
    """Where process ``pid`` (default: this one) writes the run bound for ``final``."""
    final = Path(final)
    return final.parent / f".{final.name}.tmp-{os.getpid() if pid is None else pid}"


def temporary_owner(path: str | os.PathLike) -> int | None:
    """The pid of the process writing ``path`` if ``path`` is named like a run's
    temporary directory (`temporary_dir`), else None."""
    m = _TEMPORARY.fullmatch(Path(path).name)
    return int(m.group("pid")) if m else None


def temporary_dirs(root: str | os.PathLike) -> list[Path]:
    """The temporary run directories directly under ``root``: runs being
    written now, or left by writers that were killed (`temporary_owner` gives
    the writer's pid, to tell which)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if temporary_owner(d) is not None and d.is_dir())


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_jsonable) + "\n")


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


class RunWriter:
    """Builds one run in a temporary sibling directory, then renames it."""

    def __init__(self, final: Path) -> None:
        self.final = Path(final).resolve()
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temporary_dir(self.final)
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()

    def part(self, name: str) -> Path:
        """A scratch file inside the temporary directory (fleets write here)."""
        return self.tmp / name

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        _write_json(self.tmp / "manifest.json", manifest)

    def commit(
        self,
        manifest: dict[str, Any],
        summary: dict[str, Any],
        messages: pd.DataFrame | None,
        connections: pd.DataFrame,
    ) -> Path:
        """Write every file, mark the manifest complete, rename into place.

        ``messages`` None: the run keeps no per-delivery rows (its latency
        distribution is the HdrHistogram in summary.json), which keeps load
        sweeps of millions of deliveries small on disk.
        """
        if messages is not None:
            messages.to_parquet(self.tmp / "messages.parquet", index=False)
        connections.to_parquet(self.tmp / "connections.parquet", index=False)
        _write_json(self.tmp / "summary.json", summary)
        for scratch in self.tmp.iterdir():
            if scratch.name not in FILES and scratch.name != "manifest.json":
                scratch.unlink()
        _write_json(self.tmp / "manifest.json", {**manifest, "status": "complete"})
        if self.final.exists():  # validated empty before the run started
            self.final.rmdir()
        os.rename(self.tmp, self.final)
        return self.final

    def abort(self) -> None:
        """Remove the temporary directory (the run never existed)."""
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class Run:
    """A completed run loaded from disk; tables are read on first use."""

    path: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def _table(self, name: str) -> pd.DataFrame:
        if name == "messages" and not (self.path / "messages.parquet").is_file():
            raise WslabError(
                f"{self.path} keeps no per-delivery rows (it ran with keep_messages=False); "
                "its latency distribution is summary['latency_hdr'] (an HdrHistogram)")
        if name not in self._tables:
            self._tables[name] = pd.read_parquet(self.path / f"{name}.parquet")
        return self._tables[name]

    @property
    def messages(self) -> pd.DataFrame:
        """One row per delivery: client_id, seq, published_ns, received_ns."""
        return self._table("messages")

    @property
    def connections(self) -> pd.DataFrame:
        """One row per TCP connection with kernel byte and segment counts."""
        return self._table("connections")

    @property
    def transport(self) -> str:
        return self.manifest["parameters"]["transport"]

    def latency_us(self) -> pd.Series:
        """One-way latency of each first delivery after the warm-up, in µs."""
        m = self.messages.drop_duplicates(["client_id", "seq"])
        cutoff = self.manifest["publish"]["start_ns"] + int(self.summary["warmup_s"] * 1e9)
        m = m[m.published_ns >= cutoff]
        return (m.received_ns - m.published_ns) / 1e3

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"Run({self.transport}, {self.path.name}: published={s['published']}, "
            f"delivered={s['delivered']}, lost={s['lost']}, duplicated={s['duplicated']})"
        )


def load(path: str | os.PathLike) -> Run:
    """Load a complete run; refuses a missing, partial or interrupted one."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise IncompleteRunError(f"{path} is not a wslab run (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("status") != "complete":
        raise IncompleteRunError(
            f"{path} is an incomplete run (status {manifest.get('status')!r}): it was "
            "interrupted or is still being written"
        )
    optional = () if manifest.get("parameters", {}).get("keep_messages", True) \
        else ("messages.parquet",)
    missing = [f for f in FILES if f not in optional and not (path / f).is_file()]
    if missing:
        raise IncompleteRunError(f"{path} is missing {', '.join(missing)}")
    summary = json.loads((path / "summary.json").read_text())
    return Run(path, manifest, summary)


def list_runs(root: str | os.PathLike) -> pd.DataFrame:
    """One row per complete run under ``root`` (hidden temporary dirs are skipped)."""
    rows = []
    for d in sorted(Path(root).iterdir()) if Path(root).is_dir() else []:
        if d.name.startswith(".") or not d.is_dir():
            continue
        try:
            run = load(d)
        except IncompleteRunError:
            continue
        rows.append({"run": d.name, "path": str(d), **run.manifest["parameters"],
                     **{k: v for k, v in run.summary.items() if not isinstance(v, dict | str)}})
    return pd.DataFrame(rows)
