"""One error hierarchy for everything the ledger refuses.

The CLI turns every :class:`LedgerError` into a one-line ``Error: ...`` and exit status 1,
in one place; nothing else in the code base catches them per command.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every refusal: the request was understood and is not allowed."""


class NotFound(LedgerError):
    """Something the request names does not exist."""


class UnknownSubject(NotFound):
    pass


class UnknownAuthority(NotFound):
    pass


class UnknownPosition(NotFound):
    pass


class Conflict(LedgerError):
    """The request contradicts what the ledger already holds."""


class SubjectExists(Conflict):
    pass


class AuthorityExists(Conflict):
    pass


class AlreadyDesignated(Conflict):
    pass


class NotDesignated(Conflict):
    pass


class AlreadyRetracted(Conflict):
    pass


class CannotRetract(Conflict):
    pass


class SnapshotConflict(Conflict):
    """The snapshot contradicts the imports already recorded (order, or another file)."""


class ConcurrentWrite(Conflict):
    """Another writer changed the same thing first; nothing of this request was written."""


class LedgerBusy(ConcurrentWrite):
    """The write lock could not be had within the lock timeout."""

    @classmethod
    def waited(cls, detail: object) -> LedgerBusy:
        return cls(
            "the ledger is busy: another process has been writing for a while (an import?); "
            f"nothing was written, try again ({detail})"
        )


class InvalidValue(LedgerError):
    """A value is well-formed but not acceptable (unknown measure, end before start, ...)."""


class UnknownFilter(InvalidValue):
    """A query's authority, regime or subject that names nothing the ledger ever recorded."""


class InvalidImport(LedgerError):
    """A JSON Lines file could not be imported; names the line at fault."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


class IntegrityFailure(LedgerError):
    """The stored ledger does not verify (hash chain, order, record times)."""


class NoLedger(NotFound):
    """No ledger at the URL: no file, an empty database, or a database of something else."""


class CannotOpen(LedgerError):
    """The URL names a store that cannot be opened (or a ledger created) here; says why."""


class NewerLedger(CannotOpen):
    """The ledger was written by a later version, with a higher schema version."""


class ReadOnly(LedgerError):
    """This process may only read the ledger, and the request needs to write to it."""


class ProjectionsBehind(ReadOnly):
    """The projections lag the log and cannot be brought up to date here."""


class LinkRefused(Conflict):
    """Two subjects cannot be linked as one party (itself, kinds, birth dates)."""


class NotLinked(Conflict):
    """An unlink names two subjects with no link standing between them."""
