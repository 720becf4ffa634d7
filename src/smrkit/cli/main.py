"""The ``smrkit`` command. Thin: it parses arguments and calls the layers below it.

Every error a user can cause prints exactly one line, ``smrkit <cmd>: error: …``, that
names the problem and the fix, and exits with code 2; ``--debug`` shows the traceback
instead. Exit codes of the subcommands are a contract that scripts depend on.
"""

from __future__ import annotations

import sys
import traceback

import click

from smrkit import __version__
from smrkit.cli.errors import EXIT_USAGE


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="smrkit")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """smrkit: build replicated services, break them on purpose, and check what the theory
    says about them.

    \b
    Commands:
      sim            run a protocol in the deterministic simulator and check the run
      check-history  check a history (smrkit JSON Lines or Jepsen logs) for linearizability
      sweep          many seeds of random admissible fault plans, every run checked
      bounds         Table 1 of seed 001 reproduced: bounds, measurements, counterexamples
      replay         re-run a saved trace and check it again
      demo           a one-minute tour
      worlds         seed 000's impossibility proof (worlds A, B, C) run for a protocol
      explore        model-check a protocol's world (Stateright's models and terms)
      cluster        a real cluster of replica processes: init, up, status, down
      serve          run one replica (for a replica on its own host)
      kv             one command against a cluster (put, get, append, cas)
      nemesis        inject a fault into a cluster (kill, restart, partition, omit, heal)
      test           a Jepsen-style test of a cluster: workload, faults, checked history
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register_commands() -> None:
    from smrkit.cli.bounds_cmd import bounds
    from smrkit.cli.check_cmd import check_history
    from smrkit.cli.demo_cmd import demo
    from smrkit.cli.explore_cmd import explore
    from smrkit.cli.replay_cmd import replay
    from smrkit.cli.sim_cmd import sim
    from smrkit.cli.sweep_cmd import sweep
    from smrkit.cli.worlds_cmd import worlds

    cli.add_command(sim)
    cli.add_command(sweep)
    cli.add_command(check_history)
    cli.add_command(bounds)
    cli.add_command(replay)
    cli.add_command(demo)
    cli.add_command(worlds)
    cli.add_command(explore)


_register_commands()


def _register_cluster_commands() -> None:
    """The real cluster (issue 4): processes, client, faults, Jepsen-style test."""
    from smrkit.cli.cluster_cmd import cluster, serve
    from smrkit.cli.kv_cmd import kv, nemesis
    from smrkit.cli.test_cmd import test

    cli.add_command(test)
    cli.add_command(cluster)
    cli.add_command(serve)
    cli.add_command(kv)
    cli.add_command(nemesis)


_register_cluster_commands()


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="smrkit", standalone_mode=False)
    except click.UsageError as error:
        path = error.ctx.command_path if error.ctx is not None else "smrkit"
        hint = f"run '{path} --help' for the options"
        message = _one_line(error.format_message()).rstrip(".")
        click.echo(f"{path}: error: {message}; {hint}", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        if debug:
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
