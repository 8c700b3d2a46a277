"""The scale benchmark of issue 5: a synthetic sanctions history, measured against the
physical limit of the store, on SQLite or PostgreSQL.

    .venv/bin/python bench/run.py [--events 1000000] [--seed 7] [--db sqlite|postgresql://...]
                                  [--out bench/results.json] [--small 10000]

One run:

1. generates a realistic history as JSON Lines (default 1,000,000 events, about one subject
   per ten events, 13 authorities with several regimes each: designations, amendments,
   delistings, expiries, re-designations, late events with past effective dates, court
   rulings, some annulling, coordination announcements, subject amendments, retractions),
   every line valid for the ledger's rules in order; the same seed gives the same file.
   A second, small history (``--small``, default 10,000 events) comes from the same
   generator and seed, for the latency comparisons;
2. imports both with ``sanctions import`` into a ledger made by ``sanctions init`` (a child
   process: wall time including the projections' catch-up, and that child's peak RSS);
3. copies the stored rows of the large ledger into a bare table with the same columns and
   keys, in one transaction: raw ``sqlite3`` ``executemany`` into a fresh SQLite file, or,
   for PostgreSQL, psycopg ``executemany`` and ``COPY`` into a scratch schema (the faster is
   the baseline): the physical limit the import is compared with;
4. reads and decodes the whole log in-process (``Ledger(url).read_log()``) and times
   ``sanctions rebuild`` (a child process);
5. times queries in-process through ``projections.Views`` (``show``, ``listings`` by
   authority and date, both with and without ``known_at``) on the small and the large
   ledger, and one ``sanctions designate`` (a child process, median of ``--repeats``) on each;
6. prints a table and writes every figure as JSON (``--out``), with the issue's targets.

``--db sqlite`` (the default) puts the ledgers in SQLite files in a temporary directory
(``--workdir`` to keep them elsewhere); ``--db postgresql://USER@HOST:PORT/DB`` makes fresh
schemas ``bench_<random>_*`` in that database and drops them at the end. Answers to a few
fixed probe queries are recorded as digests, so that two runs (SQLite and PostgreSQL) can
be checked to give the same answers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ledger import Ledger
from ledger.store import EVENTS_TABLE, Database
from ledger.timeline import Segment, Step, in_force, segments
from ledger.vocabulary import MEASURES
from projections import Views
from projections.time import KnownAt

# --------------------------------------------------------------------------- vocabulary

REGIMES: dict[str, list[str]] = {
    "US-OFAC": [
        "EO 13661",
        "EO 13662",
        "EO 14024",
        "EO 13382",
        "EO 13224 (SDGT)",
        "EO 13818 (Global Magnitsky)",
        "EO 13850 (Venezuela)",
        "EO 13722 (North Korea)",
    ],
    "US-STATE": ["CAATSA Section 231", "Section 7031(c)", "INKSNA"],
    "US-BIS": ["Entity List", "Military End-User List"],
    "EU": [
        "Russia (Regulation (EU) No 269/2014)",
        "Belarus (Regulation (EC) No 765/2006)",
        "EU Global Human Rights Sanctions Regime",
        "Chemical Weapons",
        "Iran (Regulation (EU) No 267/2012)",
        "Syria (Regulation (EU) No 36/2012)",
        "Cyber-attacks",
    ],
    "UK": [
        "Russia",
        "Global Human Rights",
        "Chemical Weapons",
        "Global Anti-Corruption",
        "Iran",
        "Syria",
    ],
    "UN": [
        "ISIL (Da'esh) and Al-Qaida (1267)",
        "DPRK (1718)",
        "Libya (1970)",
        "Somalia (751)",
        "Taliban (1988)",
    ],
    "CA": ["SEMA Russia", "SEMA Belarus", "Justice for Victims of Corrupt Foreign Officials Act"],
    "CH": ["Ukraine Ordinance", "Syria Ordinance", "Belarus Ordinance"],
    "AU": ["Autonomous Sanctions (Russia)", "Thematic: Serious Violations of Human Rights"],
    "JP": ["FEFTA Russia", "FEFTA North Korea"],
    "NZ": ["Russia Sanctions Act 2022"],
    "UA": ["NSDC Decision"],
    "KR": ["Foreign Trade Act (North Korea)"],
}
REGISTERED_AUTHORITIES = {
    "UA": "Ukraine (National Security and Defense Council)",
    "KR": "Republic of Korea (Ministry of Foreign Affairs)",
}
AUTHORITY_WEIGHTS = {
    "US-OFAC": 30,
    "EU": 15,
    "UK": 14,
    "CA": 8,
    "CH": 7,
    "AU": 6,
    "UN": 5,
    "JP": 5,
    "US-BIS": 4,
    "US-STATE": 3,
    "NZ": 2,
    "UA": 3,
    "KR": 1,
}
RENEWED = {"EU", "UK", "CH"}  # designations often carry an end date, renewed by amendment
COURTS = {
    "EU": "General Court of the European Union",
    "UK": "High Court of Justice (England and Wales)",
    "US-OFAC": "U.S. District Court for the District of Columbia",
    "CA": "Federal Court of Canada",
    "CH": "Federal Administrative Court of Switzerland",
}
OTHER_COURTS = [
    "Moscow City Court",
    "Basmanny District Court of Moscow",
    "Supreme Court of Belarus",
    "Tehran Revolutionary Court",
    "European Court of Human Rights",
    "Court of Justice of the European Union",
]
OUTCOMES = [
    "sentence upheld",
    "appeal dismissed",
    "conviction in absentia",
    "detention extended",
    "assets confiscated",
    "charges dropped",
]
FIRST_NAMES = [
    ("Aleksandr", "Alexander"),
    ("Sergei", "Sergey"),
    ("Dmitri", "Dmitry"),
    ("Yuri", "Yury"),
    ("Andrei", "Andrey"),
    ("Aleksei", "Alexey"),
    ("Nikolai", "Nikolay"),
    ("Mikhail", "Michael"),
    ("Viktor", "Victor"),
    ("Igor", "Igor"),
    ("Pavel", "Pavel"),
    ("Olga", "Olga"),
    ("Yelena", "Elena"),
    ("Tatyana", "Tatiana"),
    ("Mohammad", "Muhammad"),
    ("Ali", "Aly"),
    ("Hossein", "Hussein"),
    ("Kim", "Kim"),
    ("Ri", "Lee"),
    ("Ahmed", "Ahmad"),
    ("Nicolas", "Nicolás"),
    ("Ihor", "Igor"),
    ("Aliaksandr", "Alexander"),
    ("Maryam", "Mariam"),
]
LAST_NAMES = [
    ("Ivanov", "Ivanoff"),
    ("Petrov", "Petroff"),
    ("Sidorov", "Sidorow"),
    ("Kuznetsov", "Kouznetsov"),
    ("Smirnov", "Smirnoff"),
    ("Volkov", "Wolkow"),
    ("Lebedev", "Lebedeff"),
    ("Kovalenko", "Kowalenko"),
    ("Lukashenko", "Lukashenka"),
    ("Rahimi", "Rahimy"),
    ("Hosseini", "Husseini"),
    ("Jong", "Chong"),
    ("Song", "Sung"),
    ("Al-Assad", "Assad"),
    ("Makhlouf", "Makhluf"),
    ("Maduro", "Maduro Moros"),
    ("Cabello", "Cabello Rondón"),
    ("Kadyrov", "Kadirov"),
    ("Deripaska", "Deripaska"),
    ("Shoigu", "Shoygu"),
    ("Patrushev", "Patrouchev"),
    ("Karimov", "Kerimov"),
    ("Haddad", "Hadad"),
    ("Mansour", "Mansur"),
]
ORG_WORDS = [
    "Energy",
    "Shipping",
    "Trading",
    "Defence",
    "Bank",
    "Investment",
    "Technologies",
    "Metals",
    "Aviation",
    "Logistics",
    "Petrochemical",
    "Holding",
    "Industrial",
    "Maritime",
    "Finance",
    "Engineering",
]
ORG_PLACES = [
    "Volga",
    "Ural",
    "Baltic",
    "Caspian",
    "Persian Gulf",
    "Pyongyang",
    "Damascus",
    "Minsk",
    "Caracas",
    "Siberian",
    "Arctic",
    "Black Sea",
]
ORG_FORMS = ["LLC", "JSC", "PJSC", "Ltd", "Co.", "FZE", "GmbH"]
NATIONALITIES = ["Russia", "Belarus", "Iran", "North Korea", "Syria", "Venezuela", "Myanmar"]
POSITIONS = [
    "Deputy Minister of Defence",
    "Member of the State Duma",
    "Governor",
    "Chief Executive Officer",
    "Commander",
    "Head of the regional security service",
    "Judge",
    "Prosecutor",
]
REASONS = [
    "undermining the territorial integrity, sovereignty and independence of Ukraine",
    "serious human rights violations",
    "support for the proliferation of weapons of mass destruction",
    "providing financial support to the government",
    "operating in the defence sector of the economy",
    "involvement in the use of chemical weapons",
    "malicious cyber activity",
]
SOURCES = [
    "https://ofac.treasury.gov/recent-actions",
    "https://eur-lex.europa.eu/oj/direct-access.html",
    "https://www.gov.uk/government/collections/financial-sanctions-regime-specific-consolidated-lists-and-releases",
    "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list",
    "https://www.international.gc.ca/world-monde/international_relations-relations_internationales/sanctions/",
]

START = date(1999, 1, 1)
END = date(2024, 12, 31)
KEY_SEP = "\x1f"


# --------------------------------------------------------------------------- the generator


class IndexedSet:
    """Add, remove and draw at random in O(1), deterministically for a seeded generator."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.index: dict[Any, int] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: Any) -> bool:
        return item in self.index

    def add(self, item: Any) -> None:
        if item not in self.index:
            self.index[item] = len(self.items)
            self.items.append(item)

    def discard(self, item: Any) -> None:
        i = self.index.pop(item, None)
        if i is None:
            return
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.index[last] = i

    def choice(self, rng: random.Random) -> Any:
        return self.items[rng.randrange(len(self.items))]


# One standing designation event, as the generator's model keeps it:
# (kind, effective, ledger position, measures, added, removed, until)
StepTuple = tuple[str, date, int, frozenset[str], frozenset[str], frozenset[str], date | None]
Key = tuple[int, int]  # (subject index, regime index)


@dataclass
class GenerationInfo:
    """What the generator made: counts, and samples for the query probes."""

    events: int
    seed: int
    path: str
    bytes: int = 0
    seconds: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)
    subjects: int = 0
    designations: int = 0
    late_events: int = 0
    sample_subjects: list[tuple[str, int]] = field(default_factory=list)
    """(subject id, position of its registration) of subjects registered at the end."""
    append_subject: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = dict(vars(self))
        d["sample_subjects"] = len(self.sample_subjects)
        return d


class HistoryGenerator:
    """A stream of valid JSON Lines events: the ledger's rules are tracked as it goes.

    Designation state is kept as the ledger does (``ledger.timeline``): the standing steps of
    each (subject, authority, regime), so an amendment or delisting is only written for a
    designation in force on its effective date, and a designation only where none is.
    """

    RETRACTABLE_RECENT = 20_000
    RETRACTABLE_OLD = 2_000

    def __init__(self, events: int, seed: int) -> None:
        self.n = events
        self.rng = random.Random(seed)
        self.seed = seed
        self.target_subjects = max(20, events // 10)
        self.position = 0
        self.counts: dict[str, int] = {}
        self.late = 0
        self.regimes: list[tuple[str, str]] = [(a, r) for a, rs in REGIMES.items() for r in rs]
        self.regimes_of: dict[str, list[int]] = {
            a: [i for i, (code, _) in enumerate(self.regimes) if code == a] for a in REGIMES
        }
        self.authorities = list(AUTHORITY_WEIGHTS)
        self.authority_weights = list(AUTHORITY_WEIGHTS.values())
        # subjects
        self.ids: list[str] = []
        self.names: list[str] = []
        self.registered_at: list[int] = []
        self.alive = IndexedSet()  # registered (standing)
        self.touched = bytearray()  # any event about the subject besides its registration
        self.first_alias_removed = bytearray()
        self.first_alias: list[str] = []
        self.kinds: list[str] = []
        self.bare: deque[int] = deque(maxlen=2000)  # recently registered, untouched
        self.once_retracted = bytearray()
        # designations
        self.steps: dict[Key, list[StepTuple]] = {}
        self.active = IndexedSet()
        self.ended = IndexedSet()
        self.plans: deque[tuple[int, list[int], list[str]]] = deque()
        self.coordinated: tuple[int, list[str]] | None = None
        self.recently_designated: deque[int] = deque(maxlen=500)
        # facts
        self.fact_keys: set[tuple[int, str, date, str]] = set()
        self.titles = 0
        self.aliases_added = 0
        # retraction targets: position -> ("des", key) | ("fact", None)
        self.retractable: dict[int, tuple[str, Key | None]] = {}
        self.recent: deque[int] = deque()
        self.old: list[int] = []
        self.registration_retractions = max(1, events // 200_000)
        self.measure_sets: dict[frozenset[str], frozenset[str]] = {}
        self.dates: dict[int, date] = {}

    # ------------------------------------------------------------------ helpers

    def day(self, ordinal: int) -> date:
        d = self.dates.get(ordinal)
        if d is None:
            d = self.dates[ordinal] = date.fromordinal(ordinal)
        return d

    def today(self) -> date:
        """The simulated calendar: the history spans START..END over the file."""
        span = END.toordinal() - START.toordinal()
        return self.day(START.toordinal() + span * self.position // self.n)

    def recent_day(self, back: int = 20) -> date:
        d = self.today().toordinal() - self.rng.randint(0, back)
        return self.day(max(d, START.toordinal()))

    def fs(self, items: Any) -> frozenset[str]:
        f = frozenset(items)
        return self.measure_sets.setdefault(f, f)

    def emit(self, kind: str, data: dict[str, Any]) -> int:
        self.position += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.out.append({"type": kind, "data": data})
        return self.position

    def retractable_add(self, position: int, what: tuple[str, Key | None]) -> None:
        self.retractable[position] = what
        self.recent.append(position)
        if len(self.recent) > self.RETRACTABLE_RECENT:
            gone = self.recent.popleft()
            if gone not in self.retractable:
                return
            if len(self.old) < self.RETRACTABLE_OLD:
                self.old.append(gone)
                return
            slot = self.rng.randrange(len(self.old) * 8)  # reservoir-like, thinned
            if slot < len(self.old):
                self.retractable.pop(self.old[slot], None)
                self.old[slot] = gone
            else:
                self.retractable.pop(gone, None)

    def segs(self, key: Key) -> list[Segment]:
        return segments(
            Step(k, e, o, measures=m, add_measures=a, remove_measures=r, until=u)  # type: ignore[arg-type]
            for (k, e, o, m, a, r, u) in self.steps.get(key, ())
        )

    def last_effective(self, key: Key) -> date | None:
        steps = self.steps.get(key)
        return max(s[1] for s in steps) if steps else None

    def refresh(self, key: Key) -> None:
        """Put a designation in the active or ended pool after its steps changed."""
        if in_force(self.segs(key), self.today()) is not None:
            self.ended.discard(key)
            self.active.add(key)
        else:
            self.active.discard(key)
            if self.steps.get(key):
                self.ended.add(key)
            else:
                self.ended.discard(key)

    def key_fields(self, key: Key) -> dict[str, Any]:
        authority, regime = self.regimes[key[1]]
        return {"subject": self.ids[key[0]], "authority": authority, "regime": regime}

    def legal_act(self, authority: str, day: date) -> str | None:
        n = self.rng.randint(1, 2999)
        if authority == "EU":
            return f"Council Implementing Regulation (EU) {day.year}/{n}"
        if authority == "UK":
            return f"The Sanctions (EU Exit) Regulations {day.year}, notice {n}"
        if authority.startswith("US-"):
            return f"Federal Register Vol. {day.year - 1935}, No. {n % 250}"
        if authority == "UN":
            return f"Security Council Committee press release SC/{n + 10000}"
        return None if self.rng.random() < 0.5 else f"Decision {day.year}-{n}"

    def sources(self) -> list[str]:
        return [self.rng.choice(SOURCES)] if self.rng.random() < 0.7 else []

    # ------------------------------------------------------------------ actions

    def register_authorities(self) -> None:
        for code, name in REGISTERED_AUTHORITIES.items():
            self.emit(
                "authority_registered",
                {"code": code, "name": name, "sources": ["bench generator"]},
            )

    def register_subject(self, again: int | None = None) -> None:
        rng = self.rng
        if again is not None:
            i = again
            name, sid = self.names[i], self.ids[i]
        else:
            i = len(self.ids)
            r = rng.random()
            if r < 0.70:
                kind = "person"
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                name = f"{first[0]} {last[0]}"
            elif r < 0.95:
                kind = "organization"
                name = f"{rng.choice(ORG_PLACES)} {rng.choice(ORG_WORDS)} {rng.choice(ORG_FORMS)}"
            elif r < 0.985:
                kind = "vessel"
                name = f"{rng.choice(ORG_PLACES).upper()} {rng.choice(ORG_WORDS).upper()}"
            else:
                kind = "aircraft"
                name = f"{rng.choice(ORG_PLACES)} Air {rng.randint(100, 999)}"
            sid = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + f"-{i:x}"
            self.ids.append(sid)
            self.kinds.append(kind)
            self.names.append(name)
            self.registered_at.append(0)
            self.touched.append(0)
            self.first_alias_removed.append(0)
            self.once_retracted.append(0)
            if kind == "person":
                alias = f"{first[1]} {last[1]}"
            elif kind == "vessel":
                alias = f"IMO {9000000 + i % 999999}"
            else:
                alias = name.upper()
            self.first_alias.append(alias)
        kind = self.kinds[i]
        data: dict[str, Any] = {
            "id": sid,
            "name": name,
            "kind": kind,
            "aliases": [self.first_alias[i]],
        }
        if kind == "person":
            data["birth_date"] = date(
                1940 + rng.randrange(50), rng.randint(1, 12), rng.randint(1, 28)
            ).isoformat()
            data["position"] = rng.choice(POSITIONS) if rng.random() < 0.4 else None
        data["nationality"] = rng.choice(NATIONALITIES)
        data["sources"] = self.sources()
        self.registered_at[i] = self.emit("subject_registered", data)
        self.alive.add(i)
        self.touched[i] = 0
        self.first_alias_removed[i] = 0
        if again is None:
            self.bare.append(i)
            # who will list it: most subjects by one to four authorities, a few by none
            r = rng.random()
            count = 0 if r < 0.04 else 1 if r < 0.45 else 2 if r < 0.75 else 3 if r < 0.92 else 4
            plan: list[int] = []
            for code in rng.choices(self.authorities, self.authority_weights, k=count):
                regime = rng.choice(self.regimes_of[code])
                if regime not in plan:
                    plan.append(regime)
            if plan:
                self.plans.append((i, plan, [self.regimes[r][0] for r in plan]))

    def designate(self, key: Key | None = None) -> bool:
        rng = self.rng
        if key is not None:
            pass
        elif self.plans and rng.random() < 0.9:
            subject, plan, codes = self.plans[0]
            regime = plan.pop(0)
            if not plan:
                self.plans.popleft()
                if rng.random() < 0.2 and subject in self.alive:
                    self.coordinated = (subject, list(dict.fromkeys(codes)))
            if subject not in self.alive:
                return False
            key = (subject, regime)
        else:
            if not self.alive:
                return False
            code = rng.choices(self.authorities, self.authority_weights)[0]
            key = (self.alive.choice(rng), rng.choice(self.regimes_of[code]))
        day = self.recent_day(30)
        last = self.last_effective(key)
        late = False
        if last is not None and day <= last:
            day = self.day(last.toordinal() + rng.randint(1, 60))
        elif last is None and rng.random() < 0.03:
            back = day.toordinal() - rng.randint(60, 2000)  # a back-dated listing
            day, late = self.day(max(back, START.toordinal())), True
        if in_force(self.segs(key), day) is not None:
            return False
        authority = self.regimes[key[1]][0]
        k = rng.choices([1, 2, 3, 4], [15, 35, 35, 15])[0]
        measures = sorted(
            rng.sample(MEASURES[:5], k) if rng.random() < 0.9 else rng.sample(MEASURES, k)
        )
        until = None
        if authority in RENEWED and rng.random() < 0.5:
            until = self.day(day.toordinal() + rng.choice([182, 365, 365, 730]))
        data = {
            **self.key_fields(key),
            "effective": day.isoformat(),
            "measures": measures,
            "until": until.isoformat() if until else None,
            "legal_act": self.legal_act(authority, day),
            "reason": rng.choice(REASONS),
            "sources": self.sources(),
        }
        position = self.emit("designated", data)
        self.late += late
        self.touched[key[0]] = 1
        self.recently_designated.append(key[0])
        empty = self.fs(())
        self._step(key, ("designated", day, position, self.fs(measures), empty, empty, until))
        return True

    def _in_force(self) -> tuple[Key, date, Segment] | None:
        """A designation believed in force, and an effective date for a change to it."""
        rng = self.rng
        if not self.active:
            return None
        key = self.active.choice(rng)
        segs = self.segs(key)
        last = self.last_effective(key)
        assert last is not None
        day = self.recent_day(30)
        if day <= last:
            day = self.day(last.toordinal() + rng.randint(1, 30))
        late = False
        if rng.random() < 0.06:  # a late event: effective in the past of this designation
            seg = in_force(segs, last)
            if seg is not None and seg.period_start < last:
                lo, hi = seg.period_start.toordinal(), last.toordinal()
                day, late = self.day(rng.randint(lo + 1, hi)), True
        seg = in_force(segs, day)
        if seg is None:
            self.refresh(key)
            return None
        self.late += late
        return key, day, seg

    def _step(self, key: Key, step: StepTuple) -> None:
        """A designation event was written: the model, the retraction pool and the pools."""
        self.steps.setdefault(key, []).append(step)
        self.retractable_add(step[2], ("des", key))
        self.refresh(key)

    def amend(self) -> bool:
        rng = self.rng
        found = self._in_force()
        if found is None:
            return False
        key, day, seg = found
        current = set(seg.measures)
        add: list[str] = []
        remove: list[str] = []
        until = None
        authority = self.regimes[key[1]][0]
        r = rng.random()
        if r < 0.45:
            candidates = [m for m in MEASURES if m not in current]
            if candidates:
                add = sorted(rng.sample(candidates, min(len(candidates), rng.randint(1, 2))))
        elif r < 0.7 and len(current) > 1:
            remove = [rng.choice(sorted(current))]
        elif r < 0.85:
            base = seg.until if seg.until is not None and seg.until > day else day
            until = self.day(base.toordinal() + rng.choice([182, 365]))
        legal_act = self.legal_act(authority, day) if rng.random() < 0.6 else None
        reason = rng.choice(REASONS) if not (add or remove or until or legal_act) else None
        data = {
            **self.key_fields(key),
            "effective": day.isoformat(),
            "add_measures": add,
            "remove_measures": remove,
            "until": until.isoformat() if until else None,
            "legal_act": legal_act,
            "reason": reason,
            "sources": self.sources(),
        }
        position = self.emit("amended", data)
        self._step(
            key, ("amended", day, position, self.fs(()), self.fs(add), self.fs(remove), until)
        )
        return True

    def delist(self, annul: bool = False) -> bool:
        rng = self.rng
        found = self._in_force()
        if found is None:
            return False
        key, day, _ = found
        fields = self.key_fields(key)
        if annul:
            court = COURTS.get(fields["authority"], "European Court of Human Rights")
            position = self.emit(
                "ruling_recorded",
                {
                    **fields,
                    "court": court,
                    "date": day.isoformat(),
                    "outcome": "designation annulled",
                    "summary": "the court annuls the listing for insufficient evidence",
                    "annuls": True,
                    "sources": self.sources(),
                },
            )
            step = "annulled"
        else:
            position = self.emit(
                "delisted",
                {
                    **fields,
                    "effective": day.isoformat(),
                    "reason": rng.choice(
                        ["deceased", "no longer meets the criteria", "not renewed", None]
                    ),
                    "legal_act": self.legal_act(fields["authority"], day),
                    "sources": self.sources(),
                },
            )
            step = "delisted"
        empty = self.fs(())
        self._step(key, (step, day, position, empty, empty, empty, None))
        return True

    def redesignate(self) -> bool:
        if not self.ended:
            return False
        key = self.ended.choice(self.rng)
        if key[0] not in self.alive:
            self.ended.discard(key)
            return False
        return self.designate(key)

    def ruling(self) -> bool:
        rng = self.rng
        if not self.recently_designated:
            return False
        subject = rng.choice(self.recently_designated)
        if subject not in self.alive:
            return False
        day = self.recent_day(60)
        court, outcome = rng.choice(OTHER_COURTS), rng.choice(OUTCOMES)
        fact = (subject, court, day, outcome)
        if fact in self.fact_keys:
            return False
        self.fact_keys.add(fact)
        position = self.emit(
            "ruling_recorded",
            {
                "subject": self.ids[subject],
                "court": court,
                "date": day.isoformat(),
                "outcome": outcome,
                "summary": f"{outcome} in case {rng.randint(1, 99999)}/{day.year}",
                "sources": self.sources(),
            },
        )
        self.touched[subject] = 1
        self.retractable_add(position, ("fact", None))
        return True

    def announce(self) -> bool:
        rng = self.rng
        coordinated, self.coordinated = self.coordinated, None
        if coordinated is not None:
            subjects, codes = [coordinated[0]], coordinated[1]
        else:
            if not self.recently_designated:
                return False
            subjects = list(
                dict.fromkeys(
                    rng.sample(
                        list(self.recently_designated), min(3, len(self.recently_designated))
                    )
                )
            )
            codes = []
        while len(codes) < 2:
            code = rng.choices(self.authorities, self.authority_weights)[0]
            if code not in codes:
                codes.append(code)
        subjects = [s for s in subjects if s in self.alive]
        self.titles += 1
        day = self.recent_day(5)
        position = self.emit(
            "announced",
            {
                "title": f"{codes[0]} acts in coordination with {', '.join(codes[1:])} "
                f"(action {self.titles})",
                "date": day.isoformat(),
                "authorities": codes,
                "subjects": [self.ids[s] for s in subjects],
                "sources": self.sources(),
            },
        )
        for s in subjects:
            self.touched[s] = 1
        self.retractable_add(position, ("fact", None))
        return True

    def amend_subject(self) -> bool:
        rng = self.rng
        if not self.alive:
            return False
        i = self.alive.choice(rng)
        data: dict[str, Any] = {"id": self.ids[i]}
        retractable = True
        r = rng.random()
        if r < 0.5:
            self.aliases_added += 1
            data["add_aliases"] = [f"{self.names[i]} ({self.aliases_added})"]
        elif r < 0.7 and not self.first_alias_removed[i]:
            data["remove_aliases"] = [self.first_alias[i]]
            self.first_alias_removed[i] = 1
            retractable = False  # a later removal of the same alias would depend on it
        else:
            data["position"] = rng.choice(POSITIONS)
        data["sources"] = self.sources()
        position = self.emit("subject_amended", data)
        self.touched[i] = 1
        if retractable:
            self.retractable_add(position, ("fact", None))
        return True

    def retract(self) -> bool:
        rng = self.rng
        if self.registration_retractions and rng.random() < 0.002:
            # a subject registered in error, nothing recorded about it yet
            while self.bare:
                i = self.bare.pop()
                if i in self.alive and not self.touched[i] and not self.once_retracted[i]:
                    self.emit(
                        "retracted",
                        {"position": self.registered_at[i], "reason": "registered in error"},
                    )
                    self.alive.discard(i)
                    self.once_retracted[i] = 1
                    self.registration_retractions -= 1
                    if rng.random() < 0.5:
                        self.register_subject(again=i)
                    return True
        pool = self.recent if (rng.random() < 0.85 or not self.old) else self.old
        for _ in range(5):
            if not pool:
                return False
            position = pool[rng.randrange(len(pool))]
            what = self.retractable.pop(position, None)
            if what is not None:
                break
        else:
            return False
        kind, key = what
        self.emit(
            "retracted",
            {
                "position": position,
                "reason": rng.choice(
                    ["recorded in error", "wrong regime", "duplicate entry", "wrong date"]
                ),
                "sources": self.sources(),
            },
        )
        if kind == "des":
            assert key is not None
            self.steps[key] = [s for s in self.steps[key] if s[2] != position]
            self.refresh(key)
        return True

    # ------------------------------------------------------------------ the stream

    ACTIONS: list[tuple[str, float]] = [
        ("designate", 26.0),
        ("amend", 33.0),
        ("delist", 11.0),
        ("redesignate", 3.0),
        ("ruling", 4.0),
        ("annul", 1.0),
        ("announce", 3.0),
        ("amend_subject", 3.0),
        ("retract", 2.0),
    ]

    def lines(self) -> Iterator[dict[str, Any]]:
        """The events, one dict a line, streamed."""
        self.out: list[dict[str, Any]] = []
        names = [a for a, _ in self.ACTIONS]
        weights = [w for _, w in self.ACTIONS]
        actions: dict[str, Callable[[], bool]] = {
            "designate": self.designate,
            "amend": self.amend,
            "delist": self.delist,
            "redesignate": self.redesignate,
            "ruling": self.ruling,
            "annul": lambda: self.delist(annul=True),
            "announce": self.announce,
            "amend_subject": self.amend_subject,
            "retract": self.retract,
        }
        self.register_authorities()
        while self.position < self.n:
            due = self.target_subjects * (self.position + 1) // self.n + 1
            if len(self.ids) < min(due, self.target_subjects):
                self.register_subject()
            else:
                for name in self.rng.choices(names, weights, k=4):
                    if actions[name]():
                        break
                else:
                    if not self.designate():
                        self.register_subject()
                if self.coordinated is not None:
                    self.announce()
            yield from self.out
            self.out.clear()

    def info(self, path: Path, events: int) -> GenerationInfo:
        """After ``events`` lines: samples of subjects registered by then."""
        rng = random.Random(self.seed * 7919 + 1)
        candidates = [
            i
            for i in self.alive.items
            if not self.once_retracted[i] and self.registered_at[i] <= events
        ]
        candidates.sort()
        sample = rng.sample(candidates, min(1000, len(candidates)))
        designated = [i for i in candidates if self.touched[i]]
        return GenerationInfo(
            events=events,
            seed=self.seed,
            path=str(path),
            by_type=dict(sorted(self.counts.items())),
            subjects=len(self.alive),
            designations=len(self.steps),
            late_events=self.late,
            sample_subjects=[(self.ids[i], self.registered_at[i]) for i in sample],
            append_subject=self.ids[designated[0] if designated else candidates[0]],
        )


def generate(path: Path, events: int, seed: int) -> GenerationInfo:
    """Write ``events`` lines of valid JSON Lines to ``path``, streamed."""
    started = time.perf_counter()
    gen = HistoryGenerator(events, seed)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with path.open("w", encoding="utf-8", buffering=1 << 20) as f:
        for count, line in enumerate(gen.lines(), start=1):
            data = line["data"]
            line["data"] = {k: v for k, v in data.items() if v not in (None, [])}
            f.write(dumps(line))
            f.write("\n")
            if count >= events:
                break
    info = gen.info(path, events)
    info.seconds = time.perf_counter() - started
    info.bytes = path.stat().st_size
    return info


# --------------------------------------------------------------------------- stores


@dataclass
class Store:
    """One ledger for the benchmark: its URL, and how to remove it."""

    url: str
    kind: str
    schema: str | None = None
    path: Path | None = None

    def drop(self) -> None:
        if self.kind == "postgresql" and self.schema:
            drop_schema(self.url, self.schema)


def pg_conninfo(url: str) -> str:
    db = Database.parse(url)
    auth = db.user + (f":{db.password}" if db.password else "")
    return f"postgresql://{auth}@{db.host}:{db.port}/{db.dbname}"


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def stores(db: str, workdir: Path, names: list[str]) -> Iterator[dict[str, Store]]:
    """Fresh, empty ledgers, one per name; PostgreSQL schemas are dropped on exit."""
    made: dict[str, Store] = {}
    try:
        if db == "sqlite" or db.startswith("sqlite:"):
            for name in names:
                path = workdir / f"{name}.db"
                for p in workdir.glob(f"{name}.db*"):
                    p.unlink()
                made[name] = Store(f"sqlite:///{path}", "sqlite", path=path)
        elif db.startswith(("postgresql:", "postgres:")):
            base = db.split("?")[0]
            tag = uuid.uuid4().hex[:8]
            for name in names:
                schema = f"bench_{tag}_{name}"
                made[name] = Store(f"{base}?schema={schema}", "postgresql", schema=schema)
        else:
            raise SystemExit(f"--db must be 'sqlite' or a postgresql:// URL, not {db!r}")
        yield made
    finally:
        for store in made.values():
            store.drop()


# --------------------------------------------------------------------------- measurements


def sanctions_command() -> str:
    found = shutil.which("sanctions", path=str(Path(sys.executable).parent))
    return found or "sanctions"


@dataclass
class ChildRun:
    seconds: float
    cpu_seconds: float
    returncode: int
    peak_rss_mb: float
    stdout: str
    stderr: str


def _vm_hwm_kb(pid: int) -> int | None:
    """The process's own peak RSS (``VmHWM``), or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None  # a zombie has no memory lines


def run_child(args: list[str], workdir: Path) -> ChildRun:
    """Run a command; its wall time, CPU time and its own peak RSS.

    The peak is the child's ``VmHWM``, read every 20 ms while it runs. ``wait4``'s
    ``ru_maxrss`` is not used: Linux carries the parent's high-water mark into the child
    across fork and exec, so it reported this benchmark's own ~280 MB (the generator's
    peak) instead of the command's.
    """
    out, err = workdir / "child.out", workdir / "child.err"
    peak_kb = 0
    done = threading.Event()

    def watch(pid: int) -> None:
        nonlocal peak_kb
        while not done.is_set():
            kb = _vm_hwm_kb(pid)
            if kb is None:
                return
            peak_kb = max(peak_kb, kb)
            done.wait(0.02)

    with out.open("wb") as fo, err.open("wb") as fe:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL)
        watcher = threading.Thread(target=watch, args=(proc.pid,), daemon=True)
        watcher.start()
        # Wait without reaping, so the watcher never reads a reused pid.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        done.set()
        watcher.join()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        seconds,
        usage.ru_utime + usage.ru_stime,
        proc.returncode,
        peak_kb / 1024,
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
    )


def sanctions(url: str, workdir: Path, *args: str) -> ChildRun:
    run = run_child([sanctions_command(), "--db", url, "--by", "bench", *args], workdir)
    if run.returncode != 0:
        raise RuntimeError(f"sanctions {' '.join(args)} failed: {run.stderr.strip()[-2000:]}")
    return run


def rate(events: int, seconds: float) -> float:
    return events / seconds if seconds > 0 else float("inf")


def measure_import(store: Store, path: Path, events: int, workdir: Path) -> dict[str, Any]:
    sanctions(store.url, workdir, "init")  # untimed: the import is into an empty ledger
    run = sanctions(store.url, workdir, "import", str(path))
    ledger = Ledger(store.url)
    views = Views(ledger)
    try:
        head = ledger.recorder.max_notification_id() or 0
        projected = views.position()
    finally:
        views.close()
        ledger.close()
    return {
        "seconds": run.seconds,
        "cpu_seconds": run.cpu_seconds,
        "events_per_s": rate(events, run.seconds),
        "peak_rss_mb": run.peak_rss_mb,
        "head": head,
        "projections_position": projected,
        "projections_current": projected == head == events,
        "output": run.stdout.strip(),
    }


RAW_COLUMNS = "position, originator_id, originator_version, topic, state, recorded_at, digest"
CHUNK = 20_000


def ledger_rows(store: Store) -> Iterator[list[tuple[Any, ...]]]:
    """The stored rows of the ledger, in chunks, in order of position."""
    if store.kind == "sqlite":
        assert store.path is not None
        conn = sqlite3.connect(store.path)
        try:
            cur = conn.execute(
                f"SELECT {RAW_COLUMNS} FROM {EVENTS_TABLE} ORDER BY position"  # noqa: S608
            )
            while rows := cur.fetchmany(CHUNK):
                yield rows
        finally:
            conn.close()
        return
    assert store.schema is not None
    with psycopg.connect(pg_conninfo(store.url)) as conn, conn.cursor(name="rows") as cur:
        cur.execute(
            sql.SQL("SELECT {cols} FROM {schema}.{table} ORDER BY position").format(
                cols=sql.SQL(RAW_COLUMNS),
                schema=sql.Identifier(store.schema),
                table=sql.Identifier(EVENTS_TABLE),
            )
        )
        while rows := cur.fetchmany(CHUNK):
            yield rows


def raw_sqlite(store: Store, workdir: Path) -> dict[str, Any]:
    """``executemany`` of the stored rows into a bare table in a fresh SQLite file."""
    path = workdir / "raw.db"
    for p in workdir.glob("raw.db*"):
        p.unlink()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE events (position INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, "
        "originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL, "
        "recorded_at TEXT NOT NULL, digest TEXT NOT NULL, "
        "UNIQUE (originator_id, originator_version))"
    )
    seconds, count = 0.0, 0
    conn.execute("BEGIN")
    for rows in ledger_rows(store):
        started = time.perf_counter()
        conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?)", rows)
        seconds += time.perf_counter() - started
        count += len(rows)
    started = time.perf_counter()
    conn.execute("COMMIT")
    seconds += time.perf_counter() - started
    conn.close()
    for p in workdir.glob("raw.db*"):
        p.unlink()
    return {"events": count, "seconds": seconds, "events_per_s": rate(count, seconds)}


def raw_postgres(store: Store) -> dict[str, Any]:
    """psycopg ``executemany`` and ``COPY`` of the stored rows into bare tables."""
    schema = f"{store.schema}_raw"
    results: dict[str, Any] = {}
    try:
        with psycopg.connect(pg_conninfo(store.url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            for method in ("executemany", "copy"):
                table = sql.Identifier(schema, f"events_{method}")
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {} (position bigint PRIMARY KEY, originator_id uuid NOT "
                        "NULL, originator_version bigint NOT NULL, topic text NOT NULL, "
                        "state bytea NOT NULL, recorded_at timestamptz NOT NULL, digest text "
                        "NOT NULL, UNIQUE (originator_id, originator_version))"
                    ).format(table)
                )
                insert = sql.SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s,%s,%s)").format(table)
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(table, sql.SQL(RAW_COLUMNS))
                seconds, count = 0.0, 0
                with conn.transaction(), conn.cursor() as cur:
                    for rows in ledger_rows(store):
                        started = time.perf_counter()
                        if method == "executemany":
                            cur.executemany(insert, rows)
                        else:
                            with cur.copy(copy) as cp:
                                for row in rows:
                                    cp.write_row(row)
                        seconds += time.perf_counter() - started
                        count += len(rows)
                    started = time.perf_counter()
                seconds += time.perf_counter() - started  # the commit
                results[method] = {
                    "events": count,
                    "seconds": seconds,
                    "events_per_s": rate(count, seconds),
                }
    finally:
        drop_schema(store.url, schema)
    return results


def measure_raw(store: Store, workdir: Path) -> dict[str, Any]:
    if store.kind == "sqlite":
        result = {"sqlite_executemany": raw_sqlite(store, workdir)}
    else:
        pg = raw_postgres(store)
        result = {f"postgresql_{k}": v for k, v in pg.items()}
    best = max(result, key=lambda k: result[k]["events_per_s"])
    return {**result, "baseline": best, "events_per_s": result[best]["events_per_s"]}


def measure_read(store: Store) -> dict[str, Any]:
    ledger = Ledger(store.url)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        count = sum(1 for _ in ledger.read_log())
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        ledger.close()
    return {
        "events": count,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "events_per_s": rate(count, seconds),
    }


def measure_rebuild(store: Store, events: int, workdir: Path) -> dict[str, Any]:
    run = sanctions(store.url, workdir, "rebuild")
    return {
        "seconds": run.seconds,
        "cpu_seconds": run.cpu_seconds,
        "events_per_s": rate(events, run.seconds),
        "peak_rss_mb": run.peak_rss_mb,
        "output": run.stdout.strip(),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def random_day(rng: random.Random) -> date:
    return date.fromordinal(rng.randint(START.toordinal(), END.toordinal()))


def measure_queries(store: Store, info: GenerationInfo, count: int, seed: int) -> dict[str, Any]:
    """Latency of ``show`` and ``listings``, with and without ``known_at``, in-process."""
    rng = random.Random(seed)
    ledger = Ledger(store.url)
    views = Views(ledger)
    head = views.position()
    subjects = info.sample_subjects
    authorities = list(AUTHORITY_WEIGHTS)
    kinds: dict[str, Callable[[], Any]] = {
        "show": lambda: views.show(rng.choice(subjects)[0], at=random_day(rng)),
        "show_known_at": lambda: _show_known(views, rng, subjects, head),
        "list": lambda: views.listings(authority=rng.choice(authorities), at=random_day(rng)),
        "list_known_at": lambda: views.listings(
            authority=rng.choice(authorities),
            at=random_day(rng),
            known_at=KnownAt(position=rng.randint(1, head)),
        ),
    }
    results: dict[str, Any] = {}
    try:
        for name, call in kinds.items():
            call()  # warm up: connections, statement caches
            times, rows = [], 0
            for _ in range(count):
                started = time.perf_counter()
                answer = call()
                times.append((time.perf_counter() - started) * 1000)
                rows += len(answer.designations) if hasattr(answer, "designations") else len(answer)
            results[name] = {
                "p50_ms": percentile(times, 0.50),
                "p95_ms": percentile(times, 0.95),
                "mean_rows": rows / count,
                "us_per_row": 1000 * sum(times) / rows if rows else None,
            }
    finally:
        views.close()
        ledger.close()
    return results


def _show_known(
    views: Views, rng: random.Random, subjects: list[tuple[str, int]], head: int
) -> Any:
    subject, registered = rng.choice(subjects)
    return views.show(
        subject, at=random_day(rng), known_at=KnownAt(position=rng.randint(registered, head))
    )


def measure_appends(
    small: Store,
    full: Store,
    info_small: GenerationInfo,
    info_full: GenerationInfo,
    repeats: int,
    workdir: Path,
) -> dict[str, Any]:
    """One ``sanctions designate`` as a child process, alternating between the ledgers.

    ``sanctions head`` (start-up, one indexed read) is timed alongside, as the floor of any
    CLI command on that ledger.
    """
    runs: dict[str, list[ChildRun]] = {"small": [], "full": [], "small_head": [], "full_head": []}
    today = datetime.now(UTC).date().isoformat()
    for i in range(repeats):
        for name, store, info in (("small", small, info_small), ("full", full, info_full)):
            runs[f"{name}_head"].append(sanctions(store.url, workdir, "head"))
            designate = ["designate", info.append_subject, "--authority", "UN"]
            designate += ["--regime", f"Bench append {i}", "--effective", today]
            runs[name].append(sanctions(store.url, workdir, *designate, "--measure", "other"))

    def median_ms(name: str, cpu: bool = False) -> float:
        return 1000 * statistics.median(r.cpu_seconds if cpu else r.seconds for r in runs[name])

    result: dict[str, Any] = {
        "small_ms": [round(r.seconds * 1000, 1) for r in runs["small"]],
        "full_ms": [round(r.seconds * 1000, 1) for r in runs["full"]],
    }
    for name in runs:
        result[f"{name}_median_ms"] = median_ms(name)
        result[f"{name}_median_cpu_ms"] = median_ms(name, cpu=True)
    result["ratio"] = result["full_median_ms"] / result["small_median_ms"]
    result["ratio_cpu"] = result["full_median_cpu_ms"] / result["small_median_cpu_ms"]
    return result


def digest_of(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def count_rows(store: Store) -> int:
    if store.kind == "sqlite":
        assert store.path is not None
        with sqlite3.connect(store.path) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0])  # noqa: S608
    with psycopg.connect(pg_conninfo(store.url)) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(store.schema or "", EVENTS_TABLE)
            )
        ).fetchone()
        return int(row[0]) if row else 0


def probe_answers(store: Store, info: GenerationInfo, seed: int) -> dict[str, Any]:
    """Answers to fixed probes, as digests: equal answers on two stores give equal digests."""
    rng = random.Random(seed + 1)
    ledger = Ledger(store.url)
    views = Views(ledger)
    try:
        head = ledger.head()[0]
        count = count_rows(store)
        probes: list[dict[str, Any]] = []
        for authority in ("US-OFAC", "EU", "UK", "UN", "CA", "UA"):
            for known in (head // 3, 2 * head // 3, head):
                day = random_day(rng)
                answer = [
                    (
                        x.subject_id,
                        x.authority,
                        x.regime,
                        x.measures,
                        x.listed_from,
                        x.listed_until,
                        x.legal_act,
                    )
                    for x in views.listings(
                        authority=authority, at=day, known_at=KnownAt(position=known)
                    )
                ]
                probes.append(
                    {
                        "query": f"listings authority={authority} at={day} known_at={known}",
                        "rows": len(answer),
                        "digest": digest_of(answer),
                    }
                )
        for subject, registered in info.sample_subjects[:5]:
            day = random_day(rng)
            report = views.show(subject, at=day, known_at=KnownAt(position=head))
            answer = [
                (x.authority, x.regime, x.measures, x.listed_from, x.listed_until)
                for x in report.designations
            ]
            probes.append(
                {
                    "query": f"show {subject} at={day} (registered at {registered})",
                    "rows": len(answer),
                    "digest": digest_of(answer),
                }
            )
        return {"events": count, "head": head, "probes": probes}
    finally:
        views.close()
        ledger.close()


# --------------------------------------------------------------------------- the run


def log(message: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def environment(db: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
    }
    try:
        repo = str(Path(__file__).resolve().parent.parent)

        def git(*args: str) -> str:
            done = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True)
            done.check_returncode()
            return done.stdout.strip()

        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
        info["commit"] = commit + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    if db.startswith("postgres"):
        with psycopg.connect(pg_conninfo(db)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else None
    return info


def run_benchmark(
    *,
    events: int = 1_000_000,
    seed: int = 7,
    db: str = "sqlite",
    small: int = 10_000,
    queries: int = 200,
    repeats: int = 5,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """The whole benchmark; returns every figure (what ``--out`` writes)."""
    own_dir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="sanctions-bench-")) if workdir is None else workdir
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "config": {
            "events": events,
            "seed": seed,
            "small": small,
            "queries": queries,
            "repeats": repeats,
            "store": "sqlite" if db.startswith("sqlite") else "postgresql",
        },
        "environment": environment(db),
    }
    try:
        log(f"generating {events:,} events (seed {seed}) and {small:,} small")
        full_info = generate(work / "full.jsonl", events, seed)
        small_info = generate(work / "small.jsonl", small, seed)
        results["generation"] = {"full": full_info.as_dict(), "small": small_info.as_dict()}
        log(f"generated in {full_info.seconds:.1f} s ({full_info.bytes / 1e6:.0f} MB)")
        with stores(db, work, ["full", "small"]) as made:
            full, little = made["full"], made["small"]
            log("importing the full history (sanctions import)")
            results["import"] = measure_import(full, work / "full.jsonl", events, work)
            log(f"imported: {results['import']['events_per_s']:,.0f} events/s")
            results["import_small"] = measure_import(little, work / "small.jsonl", small, work)
            log("raw insert of the same rows")
            raw = measure_raw(full, work)
            results["raw_insert"] = raw
            results["import"]["ratio_to_raw"] = (
                results["import"]["events_per_s"] / raw["events_per_s"]
            )
            log("reading the log")
            results["read_log"] = measure_read(full)
            log("rebuilding (sanctions rebuild)")
            results["rebuild"] = measure_rebuild(full, events, work)
            results["rebuild"]["ratio_to_read"] = (
                results["rebuild"]["events_per_s"] / results["read_log"]["events_per_s"]
            )
            log("probes and queries")
            results["consistency"] = probe_answers(full, full_info, seed)
            results["consistency_small"] = probe_answers(little, small_info, seed)
            q_small = measure_queries(little, small_info, queries, seed)
            q_full = measure_queries(full, full_info, queries, seed)
            results["queries"] = {
                name: {
                    "small": q_small[name],
                    "full": q_full[name],
                    "ratio_p50": q_full[name]["p50_ms"] / q_small[name]["p50_ms"],
                    "ratio_p95": q_full[name]["p95_ms"] / q_small[name]["p95_ms"],
                }
                for name in q_small
            }
            log("CLI appends")
            results["append"] = measure_appends(little, full, small_info, full_info, repeats, work)
        results["targets"] = targets(results)
        results["environment"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        results["environment"]["load_average_at_end"] = os.getloadavg()
        return results
    finally:
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)
        else:
            for name in ("full.jsonl", "small.jsonl", "child.out", "child.err"):
                (work / name).unlink(missing_ok=True)


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Benchmark sanctions-ledger against the store's physical limit (issue 5)."
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="size of the history")
    parser.add_argument("--seed", type=int, default=7, help="the generator's seed")
    parser.add_argument(
        "--db",
        default="sqlite",
        help="'sqlite' (files in --workdir) or postgresql://USER@HOST:PORT/DB "
        "(fresh schemas, dropped afterwards)",
    )
    parser.add_argument("--out", default="bench/results.json", help="JSON results file")
    parser.add_argument(
        "--small", type=int, default=10_000, help="size of the small history for latency ratios"
    )
    parser.add_argument("--queries", type=int, default=200, help="queries per kind and size")
    parser.add_argument("--repeats", type=int, default=5, help="CLI appends per ledger")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the JSON Lines and SQLite files go (default: a temporary "
        "directory, removed afterwards)",
    )
    parser.add_argument(
        "--generate-only", metavar="FILE", type=Path, help="only write the history to FILE and exit"
    )
    args = parser.parse_args(argv)
    if args.generate_only:
        info = generate(args.generate_only, args.events, args.seed)
        print(json.dumps(info.as_dict(), indent=2))
        return
    results = run_benchmark(
        events=args.events,
        seed=args.seed,
        db=args.db,
        small=args.small,
        queries=args.queries,
        repeats=args.repeats,
        workdir=args.workdir,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    render(results)
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
