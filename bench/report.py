"""The benchmark's report: the issue's targets, checked, and the table printed."""

from __future__ import annotations

import sys
from typing import Any


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met."""
    q = r["queries"]
    sqlite_store = r["config"]["store"] == "sqlite"
    rows = [
        (
            "import / raw insert",
            r["import"]["ratio_to_raw"],
            ">= 0.333",
            r["import"]["ratio_to_raw"] >= 1 / 3,
        ),
        (
            "rebuild / read+decode",
            r["rebuild"]["ratio_to_read"],
            ">= 0.5",
            r["rebuild"]["ratio_to_read"] >= 0.5,
        ),
        (
            "import peak RSS (MB)",
            r["import"]["peak_rss_mb"],
            "< 300",
            r["import"]["peak_rss_mb"] < 300,
        ),
    ]
    for name in q:
        rows.append(
            (f"{name} p50 full/small", q[name]["ratio_p50"], "<= 2", q[name]["ratio_p50"] <= 2)
        )
    show_p50 = q["show"]["full"]["p50_ms"]
    rows.append(
        (
            "show p50 at full size (ms)",
            show_p50,
            "< 5 (SQLite)" if sqlite_store else "< 5 (SQLite only)",
            show_p50 < 5 if sqlite_store else None,
        )
    )
    rows.append(
        ("CLI append full/small", r["append"]["ratio"], "<= 1.5", r["append"]["ratio"] <= 1.5)
    )
    if "rows_read" in r:  # issue 15: a list reads what it returns
        for name, x in r["rows_read"]["full"].items():
            rows.append((f"{name}: rows read / returned", x["ratio"], "<= 2", x["ratio"] <= 2))
        diff = q["diff"]
        per_row = diff["full"]["us_per_row"] / diff["small"]["us_per_row"]
        rows.append(("diff µs per row full/small", per_row, "<= 2 (flat)", per_row <= 2))
    return [{"target": t, "value": v, "goal": g, "met": m} for t, v, g, m in rows]


# --------------------------------------------------------------------------- output


def render(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    cfg = r["config"]
    console = Console(width=None if sys.stdout.isatty() else 132)
    title = (
        f"sanctions-ledger benchmark: {cfg['events']:,} events on {cfg['store']} "
        f"(small: {cfg['small']:,}; seed {cfg['seed']}; {r['environment'].get('commit')})"
    )
    t = Table(title=title, show_lines=False)
    for col, justify in (
        ("measure", "left"),
        ("value", "right"),
        ("rate", "right"),
        ("ratio", "right"),
    ):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]

    def secs(x: dict[str, Any]) -> str:
        cpu = f" (CPU {x['cpu_seconds']:.1f} s)" if "cpu_seconds" in x else ""
        return f"{x['seconds']:.1f} s{cpu}"

    def per_row(s: dict[str, Any], f: dict[str, Any]) -> str:
        if not (s.get("us_per_row") and f.get("us_per_row")) or f["mean_rows"] < 10:
            return ""
        return f" ({s['us_per_row']:.0f} -> {f['us_per_row']:.0f} µs/row)"

    def per_s(x: dict[str, Any]) -> str:
        return f"{x['events_per_s']:,.0f} ev/s"

    raw = r["raw_insert"]
    for name, value in raw.items():
        if isinstance(value, dict):
            mark = " (baseline)" if name == raw["baseline"] else ""
            t.add_row(f"raw insert: {name}{mark}", secs(value), per_s(value), "")
    imp = r["import"]
    t.add_row(
        "sanctions import (projections current)",
        secs(imp),
        per_s(imp),
        f"{imp['ratio_to_raw']:.3f} of raw",
    )
    t.add_row("  peak RSS of the import", f"{imp['peak_rss_mb']:.0f} MB", "", "")
    t.add_row(
        f"sanctions import, small ({cfg['small']:,})",
        secs(r["import_small"]),
        per_s(r["import_small"]),
        "",
    )
    t.add_row("read + decode the log", secs(r["read_log"]), per_s(r["read_log"]), "")
    rb = r["rebuild"]
    t.add_row("sanctions rebuild", secs(rb), per_s(rb), f"{rb['ratio_to_read']:.3f} of read")
    t.add_row("  peak RSS of the rebuild", f"{rb['peak_rss_mb']:.0f} MB", "", "")
    for name, q in r["queries"].items():
        s, f = q["small"], q["full"]
        t.add_row(
            f"{name}: p50 / p95 (ms), small -> full",
            f"{s['p50_ms']:.2f}/{s['p95_ms']:.2f} -> {f['p50_ms']:.2f}/{f['p95_ms']:.2f}",
            f"rows {s['mean_rows']:.0f} -> {f['mean_rows']:.0f}" + per_row(s, f),
            f"x{q['ratio_p50']:.2f} / x{q['ratio_p95']:.2f}",
        )
    for name, rr in r.get("rows_read", {}).get("full", {}).items():
        small = r["rows_read"]["small"][name]
        t.add_row(
            f"{name}: periods rows read / returned, small -> full",
            f"{small['rows_read']:,} / {small['rows_returned']:,} -> "
            f"{rr['rows_read']:,} / {rr['rows_returned']:,}",
            f"worst one {rr['worst_ratio']:.2f}",
            f"x{rr['ratio']:.2f}",
        )
    if "read_model" in r:
        m = r["read_model"]["full"]
        t.add_row(
            "read model: rows / state rows / bytes per event",
            f"{m['rows_per_event']:.2f} / {m['state_rows_per_event']:.2f} / "
            f"{m['bytes_per_event']:,.0f}",
            "",
            "",
        )
    a = r["append"]
    t.add_row(
        "CLI designate: median ms (CPU ms), small -> full",
        f"{a['small_median_ms']:.0f} ({a['small_median_cpu_ms']:.0f}) -> "
        f"{a['full_median_ms']:.0f} ({a['full_median_cpu_ms']:.0f})",
        "",
        f"x{a['ratio']:.2f} (CPU x{a['ratio_cpu']:.2f})",
    )
    t.add_row(
        "  for reference, sanctions head: median ms",
        f"{a['small_head_median_ms']:.0f} -> {a['full_head_median_ms']:.0f}",
        "",
        "",
    )
    console.print(t)

    tt = Table(title="targets of issue 5")
    for col in ("target", "value", "goal", "met"):
        tt.add_column(col)
    for row in r["targets"]:
        met = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "n/a"}[row["met"]]
        tt.add_row(row["target"], f"{row['value']:.3f}", row["goal"], met)
    console.print(tt)
