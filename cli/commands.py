"""Every top-level command: where it is defined, and the line ``sanctions --help`` gives it.

The root group loads a command's module only when that command runs (or its own help is
asked for), so ``sanctions --help`` lists them all from this table without importing the
database, the web framework or the matcher. The summary is the first paragraph of the
command's docstring, word for word: ``tests/test_startup.py`` checks that they agree.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    # The write side.
    "subject": ("cli.subjects:subject", "Register, amend and list subjects."),
    "authority": (
        "cli.authorities:authority",
        "The authorities that impose sanctions: the built-in codes and registered ones.",
    ),
    "designate": (
        "cli.designations:designate",
        "List SUBJECT by an authority under a regime from an effective date.",
    ),
    "amend": (
        "cli.designations:amend",
        "Change a designation in force on the effective date: measures, end date, legal act.",
    ),
    "delist": (
        "cli.designations:delist",
        "End a designation from the effective date (its last day in force is the day before).",
    ),
    "announce": (
        "cli.facts:announce",
        "Record a coordination announcement: the first authority acts with the others.",
    ),
    "ruling": (
        "cli.facts:ruling",
        "Record a court ruling about SUBJECT; with --annuls it ends a designation from its date.",
    ),
    "retract": (
        "cli.retract:retract",
        "Retract the event at ledger POSITION: it stays in the store, without effect from now on.",
    ),
    "import": (
        "cli.transfer:import_",
        "Append the events in a JSON Lines FILE (- for standard input), all or nothing.",
    ),
    "export": (
        "cli.transfer:export",
        "Write the whole ledger as JSON Lines to FILE (- or none: standard output), in order.",
    ),
    "log": (
        "cli.transfer:log",
        "The raw ledger in order of record: the audit trail, from any position.",
    ),
    # The read side: point-in-time questions.
    "list": (
        "cli.queries:list_command",
        "Who is sanctioned on a date: one row per designation in force.",
    ),
    "show": (
        "cli.queries:show_command",
        "One subject's status across all authorities on a date, with rulings and announcements.",
    ),
    "history": (
        "cli.queries:history_command",
        "Every event touching a subject, in order of record, with retractions marked.",
    ),
    "diff": (
        "cli.queries:diff_command",
        "What changed after FROM and up to TO: designations added, removed, changed.",
    ),
    "announcements": (
        "cli.queries:announcements_command",
        "Coordination announcements dated on or before a date (default: all).",
    ),
    "rulings": (
        "cli.queries:rulings_command",
        "Court rulings dated on or before a date (default: all).",
    ),
    # Maintenance.
    "init": (
        "cli.admin:init_command",
        "Create an empty ledger at --db (an SQLite file, or the tables in a PostgreSQL database).",
    ),
    "rebuild": (
        "cli.admin:rebuild_command",
        "Rebuild every projection from the event log, and swap it in at the end.",
    ),
    "head": (
        "cli.admin:head_command",
        "Print the ledger's head: its last position and that event's digest.",
    ),
    "verify": (
        "cli.admin:verify_command",
        "Check the ledger's integrity: hash chain, positions, record times, projections.",
    ),
    # Official lists in, FollowTheMoney out, name search.
    "import-list": (
        "cli.lists:import_list",
        "Import a snapshot of an official list: the changes since the last one become events.",
    ),
    "export-ftm": (
        "cli.lists:export_ftm",
        "Write the subjects in force as FollowTheMoney entities (JSON lines), with Sanctions.",
    ),
    "search": (
        "cli.lists:search_command",
        "Find subjects by name or alias, tolerant of spelling, script and word order.",
    ),
    # The web face.
    "serve": (
        "cli.serve:serve_command",
        "Serve the ledger read-only over HTTP: a JSON API (/api, described at /openapi.json) "
        "and web pages for search, a subject's timeline, lists, diffs and the audit log.",
    ),
    # Screening a names file, and checking its certificate later.
    "screen": (
        "cli.screen:screen_command",
        "Screen a file of names against the designations in force on a date.",
    ),
    "check-certificate": (
        "cli.screen:check_certificate_command",
        "Check a screening certificate against this ledger (the same one or a later one).",
    ),
    # The shell completion script.
    "completion": (
        "cli.completion:completion_command",
        "Print the script that completes sanctions' commands and options in SHELL.",
    ),
    # One party, many lists: links between subjects, and suggestions of them.
    "link": (
        "cli.links:link",
        "Record that subjects A and B are one party: every query then answers for both.",
    ),
    "unlink": (
        "cli.links:unlink",
        "Record that linked subjects A and B are not (or no longer believed to be) one party.",
    ),
    "links": ("cli.links:links", "Links between subjects of several lists: suggestions to review."),
}
