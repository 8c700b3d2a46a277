"""``export-ftm`` against the followthemoney package (the ``[ftm]`` extra): every line is the
one the package writes for the same data, and the package reads it back unchanged."""

from __future__ import annotations

import json
import string
from datetime import date
from typing import Any

import pytest

pytest.importorskip(
    "followthemoney",
    reason="needs the [ftm] extra (pip install -e '.[ftm]'): export-ftm is checked against "
    "the followthemoney package",
)

from followthemoney import EntityProxy, model
from followthemoney.types import registry
from ftm_reference import (
    COUNTRIES,
    country_json,
    package_export,
    package_line,
    package_sanction,
    package_subject,
    package_valid,
)
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lists_support import (
    FTM_SAMPLE,
    OFAC_SMALL,
    UN_SMALL,
    import_file,
    need,
    real_ledger_template,
    with_views,
)
from rigour.territories.util import normalize_territory_name
from support import EXAMPLE, Sanctions

from ledger.errors import InvalidValue
from projections import ftm, ftm_values, queries


def read_back(text: str) -> list[EntityProxy]:
    """Each line as followthemoney reads it, checked against its schema."""
    found = []
    for line in text.splitlines():
        data: dict[str, Any] = json.loads(line)
        entity = model.get_proxy(data, cleaned=False)
        entity.schema.validate(entity.to_dict())  # type: ignore[arg-type]
        assert entity.to_dict()["properties"] == data["properties"]  # nothing was dropped
        found.append(entity)
    return found


def same_as_package(url: str, at: date, known_at: str | None = None) -> str:
    args = ["export-ftm", "--at", at.isoformat()] + (["--known-at", known_at] if known_at else [])
    ours = Sanctions(url).ok(*args).stdout
    ledger, views = with_views(url)
    try:
        assert ours == package_export(views, at=at, known_at=known_at)
    finally:
        ledger.close()
    return ours


@pytest.mark.parametrize("at", ["2020-10-15", "2021-03-01", "2021-03-03", "2030-01-01"])
def test_the_example_export_is_what_the_package_writes(db_url: str, at: str) -> None:
    Sanctions(db_url).ok("import", str(EXAMPLE))
    text = same_as_package(db_url, date.fromisoformat(at))
    assert read_back(text)


def test_the_list_fixtures_export_is_what_the_package_writes(db_url: str) -> None:
    import_file(db_url, "un", UN_SMALL)
    import_file(db_url, "ofac-sdn", OFAC_SMALL, date(2021, 6, 1))
    assert read_back(same_as_package(db_url, date(2021, 6, 1)))
    assert read_back(same_as_package(db_url, date(2021, 6, 1), known_at="13"))


def test_the_real_lists_export_is_what_the_package_writes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Byte for byte, UN 2018 and OFAC 2021: 10,000 subjects and 11,852 sanctions."""
    real = real_ledger_template(tmp_path_factory.getbasetemp())
    url = f"sqlite:///{real / 'ledger.db'}"
    text = same_as_package(url, date(2021, 6, 1))
    assert len(text.splitlines()) == 5323 + 4063 + 406 + 277 + 11852
    read_back("\n".join(text.splitlines()[::40]))  # a sample: reading back is slow
    same_as_package(url, date(2010, 6, 1))


def test_the_opensanctions_sample_reads_the_same_way() -> None:
    """Our reader takes the real OpenSanctions output too, and our Sanctions use its fields."""
    text = need(FTM_SAMPLE).read_text(encoding="utf-8")
    entities = [model.get_proxy(json.loads(line)) for line in text.splitlines() if line.strip()]
    sample = [e for e in entities if e.schema.name == "Sanction"]
    assert len(sample) == 41
    used = {p for e in sample for p in e.properties}
    assert {"entity", "authority", "program", "startDate"} <= used
    assert used <= set(ftm.TYPES) | {"country", "sourceUrl", "modifiedAt", "duration"} | used


def test_the_property_types_are_the_models() -> None:
    for schema in [*ftm.SCHEMATA.values(), "LegalEntity", "Sanction"]:
        for name, prop in model.get(schema).properties.items():  # type: ignore[union-attr]
            if name in ftm.TYPES:
                assert prop.type.name == ftm.TYPES[name], (schema, name)


def test_the_country_table_is_rigours() -> None:
    assert COUNTRIES.read_text(encoding="utf-8") == country_json(), (
        "projections/ftm_countries.json is out of date: run python tests/ftm_reference.py"
    )


def test_latin_letters_with_accents_are_matched_as_rigour_does() -> None:
    checked = 0
    for cp in range(0x80, 0x10000):
        word = f"a{chr(cp)}b"
        latin = ftm_values._latin(word)
        if latin is None:
            continue
        assert ftm_values.territory_key(latin) == normalize_territory_name(word), hex(cp)
        checked += 1
    assert checked > 800  # Latin letters with accents, combining accents


# ------------------------------------------------------------------ any data

COUNTRY_WORDS = [
    "Russia",
    "Russian Federation",
    "Korea, North",
    "Iran",
    "Syria",
    "USSR (until 1991)",
    "Côte d'Ivoire",
    "Sao Tome",
    "RU",
    "rus",
    "Q159",
    "Nigerian",
    "Yugoslavia",
    "Palestinian",
    "Germny",
    "Atlantis",
]
latin_text = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "Zs", "Cc", "Cf", "Mn"], max_codepoint=0x24F),
    max_size=20,
)
any_text = st.text(max_size=30)
nationality = st.lists(st.one_of(st.sampled_from(COUNTRY_WORDS), latin_text), max_size=3).map(
    lambda parts: "; ".join(parts)
)
days = st.dates(min_value=date(1, 1, 1))
subject_ids = st.from_regex(r"\A[a-z0-9]+(?:[-_.][a-z0-9]+){0,2}\Z")

subjects = st.builds(
    queries.SubjectRow,
    subject_id=subject_ids,
    name=st.one_of(any_text, st.sampled_from(['"Quoted"', "'x'", "  a \u00a0 b ", "x" * 390])),
    kind=st.sampled_from(["person", "organization", "vessel", "aircraft", "other"]),
    aliases=st.lists(any_text, max_size=3),
    birth_date=st.none() | days,
    nationality=st.none() | nationality,
    position=st.none() | any_text,
)
sources = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "un-consolidated@2018-10-29/QDi.001",
                "ofac-sdn@2021-06-01/31126",
                "unknown-list@2021-06-01/X",
                "https://eur-lex.europa.eu/eli/reg_impl/2021/371/oj",
                "http://example.com:99999/x",
                "https:// bad host",
                "https://3.4",
                "https://пример.рф/путь",
            ]
        ),
        st.builds(lambda a, b: f"https://{a}/{b}", latin_text, any_text),
        any_text,
    ),
    max_size=3,
)
listings = st.builds(
    queries.Listing,
    subject_id=subject_ids,
    subject_name=st.just("x"),
    kind=st.just("person"),
    authority=st.sampled_from(["EU", "UN", "US-OFAC", " UK "]),
    regime=any_text,
    measures=st.lists(st.sampled_from([*ftm.PROVISIONS, "unknown"]), max_size=3),
    listed_from=days,
    listed_until=st.none() | days,
    legal_act=st.none() | any_text,
    reason=st.none()
    | any_text
    | st.sampled_from(["listed on 2003-06-27 (UN)", "listed on 0999-01-01"]),
)


def ours_or_error(build: Any) -> str | None:
    try:
        entity = build()
        ftm._validate(entity)
    except InvalidValue:
        return None
    return ftm.line(entity)


@settings(max_examples=300, deadline=None)
@given(subjects)
def test_any_subject_is_written_as_the_package_writes_it(subject: queries.SubjectRow) -> None:
    try:
        ours = ours_or_error(lambda: ftm.subject_entity(subject))
    except ftm_values.NotLatin:
        assume(False)  # said in a warning; the package transliterates by language
    theirs = package_subject(subject)
    assert ours == (package_line(theirs) if package_valid(theirs) else None)


@settings(max_examples=300, deadline=None)
@given(listings, any_text, sources)
def test_any_sanction_is_written_as_the_package_writes_it(
    listing: queries.Listing, authority_name: str, sources_: list[str]
) -> None:
    ours = ours_or_error(lambda: ftm.sanction_entity(listing, authority_name, sources_))
    theirs = package_sanction(listing, listing.subject_id, authority_name, sources_)
    assert ours == (package_line(theirs) if package_valid(theirs) else None)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(COUNTRY_WORDS), latin_text, st.text(string.printable)))
def test_any_latin_country_name_is_matched_as_the_package_matches_it(text: str) -> None:
    clean = ftm_values.sanitize(text)
    assume(clean is not None)
    assert clean is not None
    try:
        ours = ftm_values.country(clean)
    except ftm_values.NotLatin:
        assume(False)  # said in a warning; the package transliterates by language
    assert ours == registry.country.clean_text(clean, fuzzy=True)


def test_each_nationality_of_the_real_lists_matches_as_the_package_matches_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    real = real_ledger_template(tmp_path_factory.getbasetemp())
    ledger, views = with_views(f"sqlite:///{real / 'ledger.db'}")
    try:
        with views.engine.connect() as conn:
            rows = queries.subjects_known(conn, k=views.resolve_known_at(None))
    finally:
        ledger.close()
    parts = {p.strip() for r in rows if r.nationality for p in r.nationality.split(";")}
    assert len(parts) > 100
    for part in sorted(parts):
        assert ftm_values.country(part) == registry.country.clean_text(part, fuzzy=True), part
