"""The read side: bitemporal projections of the ledger and the queries over them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from projections.views import Views

__all__ = ["Views"]


def __getattr__(name: str) -> Any:
    # On first use (PEP 562): importing projections.time or .serialize loads no database code.
    if name != "Views":
        raise AttributeError(f"module 'projections' has no attribute {name!r}")
    from projections.views import Views

    globals()["Views"] = Views
    return Views
