"""The benchmark's report: the issue's targets, checked, and the table printed."""

from __future__ import annotations

import sys
from typing import Any


def at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def table15(r: dict[str, Any]) -> list[tuple[str, float | None, str, bool | None]]:
    """Issue 15's table: (what, measured, wanted, met); None where nothing was measured."""
    t = r.get("table15")
    if t is None:
        return []
    lst, diff, search, retract, up = (
        t["list"],
        t["diff"],
        t["search"],
        t["retract"],
        t["startup"],
    )
    worst_retract = max(
        (x for x in (retract["ratio_subject"], retract["ratio_authority"]) if x is not None),
        default=None,
    )
    return [
        ("search p50 full/small", search["ratio_p50"], "<= 2", at_most(search["ratio_p50"], 2)),
        (
            "search p50 at full size (ms)",
            search["full"]["p50_ms"],
            "<= 50",
            at_most(search["full"]["p50_ms"], 50),
        ),
        (
            "list rows read / returned (full)",
            lst["full"]["read_per_returned"],
            "<= 2",
            at_most(lst["full"]["read_per_returned"], 2),
        ),
        (
            "diff µs per returned row full/small",
            diff["ratio_us_per_row"],
            "<= 1.5 (flat)",
            at_most(diff["ratio_us_per_row"], 1.5),
        ),
        (
            "retract of a registration full/small",
            worst_retract,
            "<= 2 (indexed)",
            at_most(worst_retract, 2),
        ),
        (
            "sanctions show X, wall median (ms)",
            up["show_median_ms"],
            "<= 200 (1M SQLite)",
            at_most(up["show_median_ms"], 200),
        ),
        (
            "sanctions --help, wall median (ms)",
            up["help_median_ms"],
            "<= 120",
            at_most(up["help_median_ms"], 120),
        ),
    ]


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The issues' targets (15, and 5's that it keeps), each with the measured value and
    whether it is met."""
    q = r["queries"]
    sqlite_store = r["config"]["store"] == "sqlite"
    rows: list[tuple[str, float | None, str, bool | None]] = [
        (
            "import / raw insert",
            r["import"]["ratio_to_raw"],
            ">= 0.10",
            r["import"]["ratio_to_raw"] >= 0.10,
        ),
        (
            "rebuild / read+decode",
            r["rebuild"]["ratio_to_read"],
            ">= 0.40",
            r["rebuild"]["ratio_to_read"] >= 0.40,
        ),
        (
            "import peak RSS (MB)",
            r["import"]["peak_rss_mb"],
            "< 300",
            r["import"]["peak_rss_mb"] < 300,
        ),
        *table15(r),
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
    t15 = r.get("table15")
    if t15 is not None:
        _table15_rows(t, t15)
    console.print(t)

    tt = Table(title="targets of issue 15 (and those of issue 5 it keeps)")
    for col in ("target", "value", "goal", "met"):
        tt.add_column(col)
    for row in r["targets"]:
        met = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "n/a"}[row["met"]]
        value = "n/a" if row["value"] is None else f"{row['value']:.3f}"
        tt.add_row(row["target"], value, row["goal"], met)
    console.print(tt)


def _table15_rows(t: Any, x: dict[str, Any]) -> None:
    def ms(q: dict[str, Any]) -> str:
        return f"{q['p50_ms']:.2f}/{q['p95_ms']:.2f}"

    def ratio(v: float | None) -> str:
        return "n/a" if v is None else f"x{v:.2f}"

    q = x["search"]
    s, f = q["small"], q["full"]
    t.add_row(
        "search NAME: p50 / p95 (ms), small -> full",
        f"{ms(s)} -> {ms(f)}",
        f"found {s['found']}/{s['queries']} -> {f['found']}/{f['queries']}",
        ratio(q["ratio_p50"]),
    )
    q = x["diff"]
    s, f = q["small"], q["full"]
    us = (
        f" ({s['us_per_row']:.0f} -> {f['us_per_row']:.0f} µs/row)"
        if s["us_per_row"] and f["us_per_row"]
        else ""
    )
    t.add_row(
        "diff FROM TO (30 days): p50 / p95 (ms), small -> full",
        f"{ms(s)} -> {ms(f)}",
        f"rows {s['mean_rows']:.1f} -> {f['mean_rows']:.1f}{us}",
        f"{ratio(q['ratio_p50'])} / per row {ratio(q['ratio_us_per_row'])}",
    )
    lst = x["list"]
    s, f = lst["small"], lst["full"]

    def read(q: dict[str, Any]) -> str:
        return "n/a" if q["rows_read"] is None else f"{q['rows_read']:.0f}"

    t.add_row(
        "list --authority --at: rows read / returned, small -> full",
        f"{read(s)}/{s['rows_returned']:.0f} -> {read(f)}/{f['rows_returned']:.0f}",
        f"p50 {s['p50_ms']:.2f} -> {f['p50_ms']:.2f} ms",
        "n/a" if f["read_per_returned"] is None else f"{f['read_per_returned']:.1f} read/returned",
    )
    rt = x["retract"]
    t.add_row(
        "retract a registration: median ms (subject, authority), small -> full",
        f"{rt['small']['subject_median_ms']:.1f}, {rt['small']['authority_median_ms']:.1f} -> "
        f"{rt['full']['subject_median_ms']:.1f}, {rt['full']['authority_median_ms']:.1f}",
        "",
        f"{ratio(rt['ratio_subject'])}, {ratio(rt['ratio_authority'])}",
    )
    up = x["startup"]
    t.add_row(
        "start-up on the full ledger: median wall ms (CPU ms)",
        f"--help {up['help_median_ms']:.0f} ({up['help_cpu_median_ms']:.0f}); "
        f"show {up['show_median_ms']:.0f} ({up['show_cpu_median_ms']:.0f})",
        f"python -c pass {up['python_median_ms']:.0f}",
        f"load {up['load_average'][0]:.1f}",
    )
