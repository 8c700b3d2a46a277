"""The second face: ``sanctions serve``, a read-only JSON API and web pages over the ledger."""
