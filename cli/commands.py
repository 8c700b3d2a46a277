"""Every command group, registered on the root group in this order."""

from __future__ import annotations

import click

ALL: list[click.Command] = []
