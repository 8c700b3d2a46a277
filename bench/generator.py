"""The benchmark's synthetic sanctions history: realistic, valid in order, reproducible.

``generate(path, events, seed)`` writes it as JSON Lines for ``sanctions import``; the same
seed gives the same file.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ledger.timeline import Segment, Step, in_force, segments
from ledger.vocabulary import MEASURES

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
