"""Every command group, registered on the root group in this order."""

from __future__ import annotations

import click

from cli import authorities, designations, facts, retract, subjects, transfer

ALL: list[click.Command] = [
    subjects.subject,
    authorities.authority,
    designations.designate,
    designations.amend,
    designations.delist,
    facts.announce,
    facts.ruling,
    retract.retract,
    transfer.import_,
    transfer.export,
    transfer.log,
]

# The read side: point-in-time questions and maintenance.
from cli import admin, queries  # noqa: E402

ALL += queries.COMMANDS + admin.COMMANDS

# Official lists in, FollowTheMoney out, name search.
from cli import lists  # noqa: E402

ALL += lists.COMMANDS

# The web face: its framework loads only when `serve` runs.
from cli import serve  # noqa: E402

ALL += serve.COMMANDS

# Screening a names file, and checking its certificate later.
from cli import screen  # noqa: E402

ALL += screen.COMMANDS

# One party, many lists: links between subjects, and suggestions of them.
from cli import links  # noqa: E402

ALL += links.COMMANDS
