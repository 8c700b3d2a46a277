"""The ``sanctions`` program: signals are handled before the libraries load (a second)."""

from __future__ import annotations


def main() -> None:
    from cli import interrupts

    interrupts.install()
    try:
        from cli.main import cli
    except KeyboardInterrupt as e:
        raise SystemExit(interrupts.before_start(e)) from None
    except RuntimeError as e:
        # Python 3.11 wraps a signal that lands in a class's __set_name__ (a cached_property
        # being created while cli.main loads) in a RuntimeError.
        if not isinstance(e.__cause__, KeyboardInterrupt):
            raise
        raise SystemExit(interrupts.before_start(e.__cause__)) from None
    cli(prog_name="sanctions")
