"""How well the matcher finds listed names and leaves unlisted ones alone, on the real lists.

Sets built from ``../shared/data`` (the matcher has never seen these names):

- ``original-script``: the UN list's ``NAME_ORIGINAL_SCRIPT`` (Arabic, Cyrillic, ...) against
  the UN subjects with their Latin names only (the importer keeps the original as an alias,
  which would make this trivial);
- ``ofac-alias``: an OFAC individual's alias (alt.csv, a spelling variant or another name)
  against the OFAC subjects' primary names only;
- ``reordered``, ``missing-middle``, ``initials``, ``misspelt``, ``diacritics``: listed
  primary names rewritten, against their own list with its Latin aliases;
- ``unlisted``: names made up by Faker in several languages and scripts (first and last
  names, and company names) against both lists as the ledger holds them (every alias).

A listed query counts as found when its status is ``match`` or ``possible`` and the right
subject (or a namesake with the same folded name) comes first. An unlisted one counts as
``match`` or ``possible`` by its best candidate.

    python bench/matching.py [--per-kind 400] [--threshold 0.87] [--out bench/results]
    python bench/matching.py --seed 23 --misses /tmp/misses.jsonl   # matching-seed23.json
    python bench/matching.py --throughput 10000   # bench/results/screening.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.spelling import same_name  # noqa: E402
from ledger.adapters import Entry, parse  # noqa: E402
from projections.matching import (  # noqa: E402
    DEFAULT_THRESHOLD,
    MATCHER_VERSION,
    POSSIBLE_MARGIN,
    MatchIndex,
    Query,
    build_index,
    status,
    words,
)
from projections.queries import SubjectRow  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
UN_FILE = DATA / "un" / "consolidated-2018-10-29.xml"
OFAC_DIR = DATA / "ofac-sdn-2021"
LOCALES = [
    "en_US",
    "de_DE",
    "fr_FR",
    "es_ES",
    "it_IT",
    "pl_PL",
    "tr_TR",
    "ru_RU",
    "uk_UA",
    "ar_AA",
    "fa_IR",
    "zh_CN",
    "ko_KR",
    "el_GR",
    "hi_IN",
    "pt_BR",
]


@dataclass(frozen=True)
class Case:
    kind: str
    query: str
    target: str | None  # subject id; None for an unlisted name
    target_key: tuple[str, ...] = ()


def _latin(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text)


def subject(e: Entry, *, aliases: Iterable[str] | None = None) -> SubjectRow:
    return SubjectRow(
        e.subject_id,
        e.name,
        e.kind,
        list(e.aliases if aliases is None else aliases),
        e.birth_date,
        e.nationality,
        e.position,
    )


def load(un: Path = UN_FILE, ofac: Path = OFAC_DIR) -> tuple[list[Entry], list[Entry]]:
    from datetime import date

    return list(parse("un", un).entries), list(
        parse("ofac-sdn", ofac, published=date(2021, 6, 1)).entries
    )


def _misspell(rng: random.Random, name: str) -> str | None:
    parts = name.split()
    long = [i for i, p in enumerate(parts) if sum(c.isalpha() for c in p) >= 5]
    if not long:
        return None
    i = rng.choice(long)
    w = parts[i]
    letters = [k for k, c in enumerate(w) if c.isalpha()][1:]  # keep the first letter
    k = rng.choice(letters)
    edit = rng.choice(["sub", "del", "swap", "ins"])
    if edit == "sub":
        w = w[:k] + rng.choice("aeiourstnlm") + w[k + 1 :]
    elif edit == "del":
        w = w[:k] + w[k + 1 :]
    elif edit == "swap" and k + 1 < len(w) and w[k + 1].isalpha():
        w = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    else:
        w = w[:k] + rng.choice("aeiourstnlm") + w[k:]
    parts[i] = w
    return " ".join(parts)


_ACCENTS = str.maketrans("aeioucsnzAEIOUCSNZ", "áéíöüçšñžÁÉÍÖÜÇŠÑŽ")


def _plain_words(name: str) -> list[str]:
    return name.replace(",", " ").split()


def variants(rng: random.Random, e: Entry) -> Iterator[tuple[str, str]]:
    parts = _plain_words(e.name)
    if e.kind == "person" and len(parts) >= 2:
        yield "reordered", " ".join(parts[1:] + parts[:1])
    surname, comma, given = e.name.partition(",")
    if comma:  # OFAC: SURNAME, Given Middle
        givens = given.split()
        if e.kind == "person" and len(givens) >= 2:
            yield "missing-middle", f"{givens[0]} {surname}"
            yield "initials", " ".join([givens[0], *(p[0] + "." for p in givens[1:]), surname])
    elif e.kind == "person" and len(parts) >= 3:  # UN: FIRST SECOND THIRD
        yield "missing-middle", f"{parts[0]} {parts[-1]}"
        yield "initials", " ".join([parts[0], *(p[0] + "." for p in parts[1:-1]), parts[-1]])
    typo = _misspell(rng, e.name)
    if typo is not None:
        yield "misspelt", typo
    yield "diacritics", e.name.translate(_ACCENTS)


def original_names(un: Path) -> dict[str, list[str]]:
    """NAME_ORIGINAL_SCRIPT by reference number (a language in brackets cut off)."""
    import xml.etree.ElementTree as ET

    out: dict[str, list[str]] = defaultdict(list)
    for record in ET.parse(un).getroot().iter():
        text = (record.findtext("NAME_ORIGINAL_SCRIPT") or "").strip()
        if text:
            ref = (record.findtext("REFERENCE_NUMBER") or "").strip()
            out[ref].append(text.split(" (")[0])
    return out


# Kinds measured in two parts, spellings and other names (``bench/spelling.py``); the whole too.
SPLIT = ("ofac-alias", "original-script-entity")


def listed_cases(
    un: list[Entry],
    ofac: list[Entry],
    rng: random.Random,
    per_kind: int,
    originals: dict[str, list[str]],
) -> dict[str, list[Case]]:
    cases: dict[str, list[Case]] = defaultdict(list)
    for e in un:
        # An entity's original name is mostly a translation, not a transliteration: apart.
        kind = "original-script" if e.kind == "person" else "original-script-entity"
        for original in originals.get(e.ref, []):
            cases[kind].append(Case(kind, original, e.subject_id, tuple(words(e.name))))
    for e in ofac:
        if e.kind == "person":
            for alias in e.aliases:
                cases["ofac-alias"].append(
                    Case("ofac-alias", alias, e.subject_id, tuple(words(e.name)))
                )
    for e in un + ofac:
        for kind, query in variants(rng, e):
            cases[kind].append(Case(kind, query, e.subject_id, tuple(words(e.name))))
    sampled = {k: (rng.sample(v, per_kind) if len(v) > per_kind else v) for k, v in cases.items()}
    names = {e.subject_id: e.name for e in un + ofac}
    for kind in SPLIT:
        for c in sampled.get(kind, []):
            part = "spelling" if same_name(c.query, names[c.target or ""]) else "other-name"
            sampled.setdefault(f"{kind}-{part}", []).append(
                Case(f"{kind}-{part}", c.query, c.target, c.target_key)
            )
    return sampled


def unlisted_cases(count: int, seed: int) -> list[Case]:
    from faker import Faker

    out: list[Case] = []
    each = max(1, count // len(LOCALES))
    for n, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + n)
        for i in range(each):
            # Every fifth a company, the others a first and a last name (no titles).
            query = fake.company() if i % 5 == 4 else f"{fake.first_name()} {fake.last_name()}"
            out.append(Case(f"unlisted-{locale}", query, None))
    return out


@dataclass
class Tally:
    total: int = 0
    found: int = 0
    match: int = 0
    possible: int = 0

    def figures(self, listed: bool) -> dict[str, Any]:
        n = max(1, self.total)
        if listed:
            return {
                "cases": self.total,
                "recall": round(self.found / n, 4),
                "match": round(self.match / n, 4),
                "possible": round(self.possible / n, 4),
            }
        return {
            "cases": self.total,
            "match_rate": round(self.match / n, 4),
            "possible_or_worse_rate": round((self.match + self.possible) / n, 4),
        }


def run(
    index: MatchIndex,
    cases: list[Case],
    threshold: float,
    misses: list[dict[str, Any]] | None = None,
) -> dict[str, Tally]:
    floor = threshold - POSSIBLE_MARGIN
    tallies: dict[str, Tally] = defaultdict(Tally)
    for case in cases:
        found = index.match(Query(case.query), floor=floor, limit=3)
        t = tallies[case.kind]
        t.total += 1
        verdict = status(found[0].score, threshold) if found else "clear"
        if verdict == "match":
            t.match += 1
        elif verdict == "possible":
            t.possible += 1
        if case.target is not None and verdict != "clear":
            # First, or tied for first (screening shows every equal best).
            best = [c.subject for c in found if c.score == found[0].score]
            if any(
                s.subject_id == case.target or tuple(words(s.name)) == case.target_key for s in best
            ):
                t.found += 1
                continue
        if misses is not None and (case.target is not None or verdict != "clear"):
            misses.append(
                {
                    "kind": case.kind,
                    "query": case.query,
                    "target": case.target,
                    "got": [(c.subject.subject_id, c.matched, c.score) for c in found[:2]],
                }
            )
    return tallies


def measure(
    per_kind: int = 400,
    unlisted: int = 3200,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 17,
    un_path: Path = UN_FILE,
    ofac_path: Path = OFAC_DIR,
    misses: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    rng = random.Random(seed)
    un, ofac = load(un_path, ofac_path)
    by_list = {e.subject_id: "un" for e in un} | {e.subject_id: "ofac" for e in ofac}
    latin_un = build_index(subject(e, aliases=[a for a in e.aliases if _latin(a)]) for e in un)
    latin_ofac = build_index(subject(e) for e in ofac)
    primary_ofac = build_index(subject(e, aliases=()) for e in ofac)
    everything = build_index([subject(e) for e in un + ofac])
    listed = listed_cases(un, ofac, rng, per_kind, original_names(un_path))
    tallies: dict[str, Tally] = {}
    start = time.perf_counter()
    queries = 0
    for kind, cases in sorted(listed.items()):
        if kind.startswith("ofac-alias"):
            tallies |= run(primary_ofac, cases, threshold, misses)
        else:
            un_cases = [c for c in cases if by_list[c.target or ""] == "un"]
            of_cases = [c for c in cases if by_list[c.target or ""] == "ofac"]
            a = run(latin_un, un_cases, threshold, misses)
            b = run(latin_ofac, of_cases, threshold, misses)
            t = Tally()
            for part in (a.get(kind), b.get(kind)):
                if part is not None:
                    t = Tally(
                        t.total + part.total,
                        t.found + part.found,
                        t.match + part.match,
                        t.possible + part.possible,
                    )
            tallies[kind] = t
        queries += len(cases)
    made_up = unlisted_cases(unlisted, seed)
    tallies |= run(everything, made_up, threshold, misses)
    queries += len(made_up)
    elapsed = time.perf_counter() - start
    total_unlisted = Tally()
    for k, t in tallies.items():
        if k.startswith("unlisted-"):
            total_unlisted = Tally(
                total_unlisted.total + t.total,
                0,
                total_unlisted.match + t.match,
                total_unlisted.possible + t.possible,
            )
    all_listed = Tally()
    for k, t in tallies.items():
        if not k.startswith("unlisted-") and not k.endswith(("-spelling", "-other-name")):
            all_listed = Tally(
                all_listed.total + t.total,
                all_listed.found + t.found,
                all_listed.match + t.match,
                all_listed.possible + t.possible,
            )
    return {
        "matcher_version": MATCHER_VERSION,
        "threshold": threshold,
        "possible_from": round(threshold - POSSIBLE_MARGIN, 3),
        "listed": {
            k: t.figures(True) for k, t in sorted(tallies.items()) if not k.startswith("unlisted-")
        },
        "listed_overall": all_listed.figures(True),
        "unlisted": {
            k: t.figures(False) for k, t in sorted(tallies.items()) if k.startswith("unlisted-")
        },
        "unlisted_overall": total_unlisted.figures(False),
        "queries": queries,
        "seconds": round(elapsed, 1),
    }


def throughput(count: int, out: Path, seed: int = 17) -> dict[str, Any]:
    """``sanctions screen`` of ``count`` names (half listed variants, half made up) against a
    ledger holding the real UN and OFAC lists, with a certificate: seconds and peak memory."""
    import subprocess
    import tempfile

    rng = random.Random(seed)
    un, ofac = load()
    listed = [
        c.query
        for kind, cases in listed_cases(un, ofac, rng, count, original_names(UN_FILE)).items()
        if not kind.endswith(("-spelling", "-other-name"))
        for c in cases
    ]
    made_up = [c.query for c in unlisted_cases(count, seed)]
    names = rng.sample(listed, min(len(listed), count // 2)) + made_up[: count - count // 2]
    rng.shuffle(names)
    exe = str(Path(sys.executable).parent / "sanctions")
    with tempfile.TemporaryDirectory(prefix="screen-bench-") as folder:
        db = f"sqlite:///{folder}/ledger.db"
        for args in (
            ["init"],  # a ledger is made by init (issue 13); the others refuse a missing one
            ["import-list", "un", str(UN_FILE)],
            ["import-list", "ofac-sdn", str(OFAC_DIR), "--published", "2021-06-01"],
        ):
            subprocess.run([exe, "--db", db, *args], check=True, capture_output=True)
        subprocess.run([exe, "--db", db, "search", "warm up"], check=True, capture_output=True)
        path = Path(folder) / "names.txt"
        path.write_text("\n".join(n.replace("\n", " ") for n in names) + "\n", encoding="utf-8")
        # Through a small parent whose only child is the screening: its own peak RSS.
        probe = (
            "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], "
            "capture_output=True, text=True); sys.stdout.write(r.stdout); "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "sys.stderr.write(f'{u.ru_maxrss} {u.ru_utime + u.ru_stime}'); sys.exit(r.returncode)"
        )
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable, "-c", probe, exe, "--db", db, "screen", str(path),
                "--at", "2021-06-02", "--format", "csv", "--certificate", f"{folder}/cert.json",
            ],
            capture_output=True,
            text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        rss_kb, cpu_text = done.stderr.split()[-2:]
        rss, cpu = int(rss_kb) // 1024, float(cpu_text)
        import csv
        import io

        statuses = Counter(row["status"] for row in csv.DictReader(io.StringIO(done.stdout)))
    result = {
        "names": len(names),
        "against": "UN 2018-10-29 and OFAC SDN 2021 (10,759 OFAC designations in force)",
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "note": "wall time on a 2-core machine shared with other jobs; cpu_seconds is the "
        "screening process's own",
        "names_per_second": round(len(names) / seconds),
        "exit_status": done.returncode,
        "statuses": dict(statuses),
        "peak_rss_mb": rss,
        "matcher_version": MATCHER_VERSION,
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "screening.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--throughput",
        type=int,
        default=0,
        metavar="N",
        help="time 'sanctions screen' of N names instead",
    )
    parser.add_argument("--per-kind", type=int, default=400)
    parser.add_argument("--unlisted", type=int, default=3200)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--misses", type=Path, default=None, help="write the misses here")
    args = parser.parse_args()
    if args.throughput:
        print(json.dumps(throughput(args.throughput, args.out), indent=2))
        return
    misses: list[dict[str, Any]] = []
    result = measure(args.per_kind, args.unlisted, args.threshold, args.seed, misses=misses)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.misses:
        args.misses.write_text("\n".join(json.dumps(m, ensure_ascii=False) for m in misses) + "\n")
    if args.threshold == DEFAULT_THRESHOLD:
        args.out.mkdir(parents=True, exist_ok=True)
        name = "matching.json" if args.seed == 17 else f"matching-seed{args.seed}.json"
        (args.out / name).write_text(text + "\n")


if __name__ == "__main__":
    main()
