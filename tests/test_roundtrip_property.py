"""Property: export, then import into an empty ledger, reproduces every event exactly.

Random valid histories (subjects, authorities, designations, amendments, delistings,
announcements, rulings, retractions, several recorders) are appended through the Ledger
API; requests the ledger refuses are simply not part of the history.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import suppress
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support import Sanctions, sqlite_url_in

from ledger import Ledger, LedgerError
from ledger.vocabulary import MEASURES

SUBJECTS = ["anna-a", "boris-b", "ceren-c"]
AUTHORITIES = ["EU", "UK", "XA"]

texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=12,
).filter(lambda t: t.strip() != "")
days = st.integers(0, 90).map(lambda n: date(2020, 1, 1) + timedelta(days=n))
measures = st.lists(st.sampled_from(MEASURES[:4]), max_size=3, unique=True)
sources = st.lists(texts, max_size=2)
subject_ids = st.sampled_from(SUBJECTS)
key = st.sampled_from(
    [
        {"subject": "anna-a", "authority": "EU", "regime": "R1"},
        {"subject": "boris-b", "authority": "XA", "regime": "Régime 2"},
    ]
)
"""Few designations, so that amendments, delistings and annulments often find one in force."""

Op = tuple[str, dict[str, Any]]


def op(method: str, /, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Op]:
    return st.tuples(st.just(method), st.fixed_dictionaries(fields))


designation_ops = (
    op(
        "designate",
        key=key,
        effective=days,
        measures=measures,
        until=st.none() | days,
        legal_act=st.none() | texts,
        reason=st.none() | texts,
        sources=sources,
    ),
    op(
        "amend",
        key=key,
        effective=days,
        add_measures=measures,
        remove_measures=st.lists(st.sampled_from(MEASURES[:4]), max_size=1),
        until=st.none() | days,
        reason=st.none() | texts,
    ),
    op("delist", key=key, effective=days, reason=st.none() | texts),
)
operations = st.one_of(
    *designation_ops,
    *designation_ops,
    op(
        "register_subject",
        name=texts,
        subject_id=subject_ids,
        kind=st.sampled_from(["person", "organization", "vessel"]),
        aliases=st.lists(texts, max_size=2),
        birth_date=st.none() | days,
        nationality=st.none() | texts,
        sources=sources,
    ),
    op(
        "amend_subject",
        subject_id=subject_ids,
        name=st.none() | texts,
        add_aliases=st.lists(texts, max_size=1),
        position=st.none() | texts,
    ),
    op("register_authority", code=st.just("XA"), name=texts),
    op(
        "announce",
        title=texts,
        date=days,
        authorities=st.lists(st.sampled_from(AUTHORITIES), max_size=3),
        subjects=st.lists(subject_ids, max_size=2),
        sources=sources,
    ),
    op(
        "record_ruling",
        subject=subject_ids,
        court=texts,
        date=days,
        outcome=texts,
        summary=st.none() | texts,
        annuls=st.booleans(),
        authority=st.sampled_from(AUTHORITIES),
        regime=st.sampled_from(["R1", "Régime 2"]),
    ),
    op("retract", position=st.integers(1, 40), reason=texts),
    op("as_user", user=st.sampled_from(["alice", "bob", "Zoë Ünal"])),
)


def apply(ledger: Ledger, name: str, fields: dict[str, Any]) -> None:
    fields = dict(fields)
    if name == "as_user":
        ledger.user = fields["user"]
        return
    if name == "record_ruling" and not fields["annuls"]:
        fields["authority"] = fields["regime"] = None
    if "key" in fields:
        fields.update(fields.pop("key"))
    positional = {
        "register_subject": "name",
        "amend_subject": "subject_id",
        "register_authority": "code",
        "retract": "position",
    }
    method: Callable[..., Any] = getattr(ledger, name)
    if name in ("designate", "amend", "delist", "record_ruling"):
        method(fields.pop("subject"), **fields)
    elif name in positional:
        method(fields.pop(positional[name]), **fields)
    else:
        method(**fields)


prologue = st.tuples(
    *(
        op(
            "register_subject",
            name=texts,
            subject_id=st.just(s),
            aliases=st.lists(texts, max_size=1),
            birth_date=st.none() | days,
            sources=sources,
        )
        for s in SUBJECTS
    ),
    op("register_authority", code=st.just("XA"), name=texts),
)
"""Most histories start with their subjects and authority registered, so that most later
requests are valid; the rest start empty, and find out what is refused then."""


@settings(max_examples=25, deadline=None)
@given(st.one_of(prologue, st.just(())), st.lists(operations, min_size=15, max_size=50))
def test_export_then_import_into_an_empty_ledger_reproduces_every_event(
    start: tuple[Op, ...], more: list[Op]
) -> None:
    ops = [*start, *more]
    with tempfile.TemporaryDirectory() as tmp:
        source_url = sqlite_url_in(Path(tmp) / "source")
        (Path(tmp) / "source").mkdir()
        ledger = Ledger.init(source_url, user="tester")
        try:
            for name, fields in ops:
                with suppress(LedgerError):  # a refused request is not part of the history
                    apply(ledger, name, fields)
        finally:
            ledger.close()
        source = Sanctions(source_url)
        exported = source.ok("export").stdout

        (Path(tmp) / "copy").mkdir()
        copy = Sanctions(sqlite_url_in(Path(tmp) / "copy"))
        copy.ok("import", "-", input=exported.encode("utf-8"))
        assert copy.ok("export").stdout == exported
        assert copy.head() == source.head()
        assert [
            (e.position, e.type, e.data, e.recorded_at, e.recorded_by, e.digest)
            for e in copy.events()
        ] == [
            (e.position, e.type, e.data, e.recorded_at, e.recorded_by, e.digest)
            for e in source.events()
        ]
