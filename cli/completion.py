"""``sanctions completion bash|zsh|fish``: the shell completion script (click's own)."""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem, get_completion_class

from ledger.vocabulary import BUILTIN_AUTHORITIES

COMPLETE_VAR = "_SANCTIONS_COMPLETE"
"""The variable the script sets when it asks ``sanctions`` for completions."""


def complete_authority(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The built-in authority codes (registered ones would need the ledger: not opened)."""
    prefix = incomplete.upper()
    return [
        CompletionItem(code, help=name)
        for code, name in BUILTIN_AUTHORITIES.items()
        if code.startswith(prefix)
    ]


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> None:
    """Print the script that completes sanctions' commands and options in SHELL.

    Commands, options, formats, measures, kinds and the built-in authority codes complete;
    subject ids do not (that would open the ledger at every Tab).

    \b
    Example:
      sanctions completion bash > ~/.local/share/bash-completion/completions/sanctions
      sanctions completion zsh > "${fpath[1]}/_sanctions"
      sanctions completion fish > ~/.config/fish/completions/sanctions.fish
    """
    root = ctx.find_root()
    completer = get_completion_class(shell)
    assert completer is not None  # the choice admits only shells click knows
    script = completer(root.command, {}, root.info_name or "sanctions", COMPLETE_VAR)
    click.echo(script.source())


COMMANDS = [completion_command]
