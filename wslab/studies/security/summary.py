"""Notebook 10's closing lines, computed from its tables (no hand-written verdicts)."""

from __future__ import annotations

import pandas as pd

__all__ = ["conclusions"]


def _count(table: pd.DataFrame, column: str = "verdict") -> str:
    ok = int((table[column] == "as expected").sum())
    return f"{ok} of {len(table)} rows as expected"


def _differs(table: pd.DataFrame, keys: list[str]) -> str:
    """The rows whose verdict is not "as expected": their keys and answer (or verdict)."""
    bad = table[table["verdict"] != "as expected"]
    what = "answer" if "answer" in table.columns else "verdict"
    return "".join(f"; differs: {' / '.join(str(r[k]) for k in keys)}: {r[what]}"
                   for _, r in bad.iterrows())


def conclusions(answers: pd.DataFrame, reads: pd.DataFrame, messages: pd.DataFrame,
                heads: pd.DataFrame, drops: pd.DataFrame, fuzz: pd.DataFrame,
                binding: pd.DataFrame) -> list[str]:
    """One line per hypothesis, each from the printed table it names: the
    number of rows whose computed verdict holds and the rows that differ."""
    inside = drops["verdict"].str.startswith("model inside") | drops["verdict"].str.contains(
        "tolerance")
    zero = fuzz["verdict"].str.startswith("model inside")
    return [
        f"H1 Origin answers: {_count(answers)}{_differs(answers, ['endpoint', 'request'])}",
        f"H1 what a page may read: {_count(reads)}{_differs(reads, ['endpoint', 'request'])}",
        f"H2 messages over the limit and deflate bombs: {_count(messages)}"
        f"{_differs(messages, ['server', 'case'])}",
        f"H2 request heads: {_count(heads)}{_differs(heads, ['server', 'case'])}",
        f"H3 slowloris: {int(inside.sum())} of {len(drops)} servers agree with their timeout "
        f"model ({', '.join(f'{s}: {v}' for s, v in zip(drops['series'], drops['verdict'], strict=True))})",
        f"H4 fuzzing: {int(zero.sum())} of {len(fuzz)} rates (crashes per case per endpoint, "
        f"bystander losses and duplicates) have 0 inside their interval; every campaign "
        f"complete: {bool(fuzz['complete'].all())}",
        f"H5 loopback only: {_count(binding)}",
    ]
