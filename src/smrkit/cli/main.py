"""The ``smrkit`` command. Thin: it parses arguments and calls the layers below it.

``smrkit`` (or a group such as ``smrkit cluster``) with no command prints its help and
exits 0. Every error a user can cause prints exactly one line, ``smrkit <cmd>: error: …``, that
names the problem and the fix, and exits with code 2; ``--debug`` shows the traceback
instead. Exit codes of the subcommands are a contract that scripts depend on.
"""

from __future__ import annotations

import importlib
import sys

import click

from smrkit import __version__
from smrkit.cli.errors import EXIT_USAGE

# Every subcommand: name -> (module:attribute in smrkit.cli, one line of help). A module is
# imported only when that command runs (or for --help), so that `smrkit check-history`
# starts in milliseconds instead of importing the simulator, the explorer and the
# cluster runtime. Adding a command is one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("sim_cmd:sim", "run a protocol in the deterministic simulator, check the run"),
    "check-history": ("check_cmd:check_history", "is a history linearizable? (yours, Jepsen's)"),
    "sweep": ("sweep_cmd:sweep", "many seeds of random fault plans, every run checked"),
    "bounds": ("bounds_cmd:bounds", "Table 1 of seed 001 reproduced: bounds, measurements"),
    "replay": ("replay_cmd:replay", "re-run a saved trace and check it again"),
    "demo": ("demo_cmd:demo", "a one-minute tour"),
    "worlds": ("worlds_cmd:worlds", "seed 000's impossibility proof run for a protocol"),
    "rounds": ("rounds_cmd:rounds", "seed 002's f + 1 round bound: crash patterns searched"),
    "explore": ("explore_cmd:explore", "model-check a protocol's world (Stateright's terms)"),
    "hexagon": ("hexagon_cmd:hexagon", "n <= 3f: no Byzantine agreement, run for a protocol"),
    "cluster": ("cluster_cmd:cluster", "a real cluster of replica processes: init, up, down"),
    "serve": ("cluster_cmd:serve", "run one replica under its supervisor (on its own host)"),
    "kv": ("kv_cmd:kv", "one command against a cluster (put, get, append, cas)"),
    "nemesis": ("kv_cmd:nemesis", "inject a fault into a cluster (kill, partition, heal…)"),
    "test": ("test_cmd:test", "a Jepsen-style test of a cluster: workload, faults, history"),
    "flp": ("flp_cmd:flp", "seed 004's FLP proof run on a protocol: the run that never decides"),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, listed from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, _, attribute = entry[0].partition(":")
        command = getattr(importlib.import_module(f"smrkit.cli.{module_name}"), attribute)
        assert isinstance(command, click.Command), f"{entry[0]} is not a click command"
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from :data:`COMMANDS`, without importing any command."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="smrkit")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """smrkit: build replicated services, break them on purpose, and check what the theory
    says about them."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="smrkit", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:
        # `smrkit` or `smrkit cluster` alone: the user asks what there is, so that is the
        # answer (exit 0), not a usage error.
        click.echo(
            error.ctx.get_help() if error.ctx is not None else cli.get_help(click.Context(cli))
        )
        sys.exit(0)
    except click.UsageError as error:
        path = error.ctx.command_path if error.ctx is not None else "smrkit"
        hint = f"run '{path} --help' for the options"
        message = _one_line(error.format_message()).rstrip(".")
        click.echo(f"{path}: error: {message}; {hint}", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        if debug:
            import traceback

            traceback.print_exc()
        path = getattr(error, "command_path", "smrkit")
        click.echo(f"{path}: error: {_one_line(error.format_message())}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("smrkit: aborted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(code if isinstance(code, int) else 0)
