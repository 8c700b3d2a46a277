"""The ``sanctions`` program: signals are handled before the libraries load (a second)."""

from __future__ import annotations


def main() -> None:
    try:
        from cli import interrupts  # loads click: a Ctrl-C may land before the handlers
    except KeyboardInterrupt:
        import sys

        sys.stderr.write("Error: interrupted; nothing was written\n")
        raise SystemExit(130) from None  # 128 + SIGINT, as interrupts.before_start says

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
