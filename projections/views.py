"""Placeholder until the projections land (same API)."""

from __future__ import annotations

from ledger import Ledger


class Views:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def catch_up(self) -> int:
        return 0

    def close(self) -> None:
        pass
