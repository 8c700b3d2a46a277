"""The ``sanctions`` program: signals are handled before the libraries load (a second)."""

from __future__ import annotations


def main() -> None:
    from cli import interrupts

    interrupts.install()
    try:
        from cli.main import cli
    except KeyboardInterrupt as e:
        raise SystemExit(interrupts.before_start(e)) from None
    cli(prog_name="sanctions")
