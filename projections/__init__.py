"""The read side: bitemporal projections of the ledger and the queries over them."""

from projections.views import Views

__all__ = ["Views"]
