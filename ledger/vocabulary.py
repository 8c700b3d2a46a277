"""The fixed vocabulary: authorities, measures, subject kinds, and id slugs."""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import UTC, date, datetime

BUILTIN_AUTHORITIES: dict[str, str] = {
    "US-OFAC": "United States Department of the Treasury, Office of Foreign Assets Control",
    "US-STATE": "United States Department of State",
    "US-BIS": "United States Department of Commerce, Bureau of Industry and Security",
    "EU": "European Union (Council of the European Union)",
    "UK": "United Kingdom (HM Treasury, Office of Financial Sanctions Implementation)",
    "UN": "United Nations Security Council",
    "CA": "Canada (Global Affairs Canada)",
    "CH": "Switzerland (State Secretariat for Economic Affairs, SECO)",
    "AU": "Australia (Department of Foreign Affairs and Trade)",
    "JP": "Japan (Ministry of Finance / Ministry of Foreign Affairs)",
    "NZ": "New Zealand (Ministry of Foreign Affairs and Trade)",
}

MEASURES: tuple[str, ...] = (
    "asset-freeze",
    "travel-ban",
    "funds-prohibition",
    "arms-embargo",
    "export-ban",
    "import-ban",
    "investment-ban",
    "services-ban",
    "other",
)

SUBJECT_KINDS: tuple[str, ...] = ("person", "organization", "vessel", "aircraft")

AUTHORITY_CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
SUBJECT_ID = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")

MAX_TEXT = 4000
"""Longest free text accepted in one field (names, reasons, sources, ...)."""


def today() -> date:
    """Today as the ledger sees it: the UTC date."""
    return datetime.now(UTC).date()


def slugify(name: str) -> str:
    """``Igor Krasnov`` -> ``igor-krasnov``; accents are folded, other scripts dropped."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug


def nearest(word: str, candidates: list[str], n: int = 3) -> list[str]:
    """The closest candidates to ``word``, for 'did you mean' hints."""
    return difflib.get_close_matches(word, candidates, n=n, cutoff=0.4)
