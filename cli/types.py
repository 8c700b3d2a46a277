"""Shared click parameter types: malformed values are click.BadParameter (exit status 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import click

from ledger.errors import InvalidValue
from ledger.integrity import KeptHead
from ledger.records import parse_date
from ledger.vocabulary import MEASURES, SUBJECT_KINDS


class DateType(click.ParamType[date, Any]):
    """A calendar date, YYYY-MM-DD."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(str(value), "date")
        except InvalidValue as e:
            self.fail(str(e).removeprefix("date "), param, ctx)


class KnownAtType(click.ParamType[str, Any]):
    """A moment of record time: a ledger position, an ISO timestamp, or a date (end of day)."""

    name = "POSITION|TIMESTAMP|DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        from projections.time import parse_known_at

        try:
            parse_known_at(text)
        except InvalidValue as e:
            self.fail(str(e), param, ctx)
        return text


class HeadType(click.ParamType[KeptHead, Any]):
    """A head kept earlier: ``POSITION DIGEST`` or ``DIGEST``."""

    name = "HEAD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> KeptHead:
        if isinstance(value, KeptHead):
            return value
        try:
            return KeptHead.parse(str(value))
        except InvalidValue as e:
            self.fail(str(e), param, ctx)


DATE = DateType()
HEAD = HeadType()
KNOWN_AT = KnownAtType()
MEASURE = click.Choice(MEASURES, case_sensitive=False)
KIND = click.Choice(SUBJECT_KINDS, case_sensitive=False)
FORMAT = click.Choice(["table", "json", "jsonl", "csv"], case_sensitive=False)


def sources_option(f: Any) -> Any:
    return click.option(
        "--source",
        "sources",
        multiple=True,
        metavar="TEXT",
        help="Where this comes from: a URL or a citation (repeatable).",
    )(f)


Decorator = Callable[[Any], Any]


def stacked(*decorators: Decorator) -> Decorator:
    """Several click options as one decorator, applied in the order given."""

    def apply(f: Any) -> Any:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return apply
