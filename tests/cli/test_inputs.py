"""Inputs that cannot lie (issue 9, §4): every float option finite and in range, output
paths checked before the work, errors that name the file and the cause, help for a bare
``smrkit``, and fault specs the shell cut short recognised as such."""

from __future__ import annotations

import gzip
from pathlib import Path

import click
import pytest
from cli_helpers import assert_usage_error, run_cli

from smrkit.cli.main import COMMANDS, LazyGroup, cli
from smrkit.cli.options import FiniteNumber
from smrkit.sim.trace import TraceFormatError, read_trace


def _all_commands() -> list[tuple[str, click.Command]]:
    """Every command and subcommand, by its path (``cluster init``)."""
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(cli)
    pending: list[tuple[str, click.Command]] = [
        (name, command)
        for name in COMMANDS
        if (command := LazyGroup.get_command(cli, ctx, name)) is not None
    ]
    while pending:
        path, command = pending.pop()
        found.append((path, command))
        if isinstance(command, click.Group):
            pending.extend((f"{path} {n}", c) for n, c in command.commands.items())
    return found


def test_every_float_option_is_checked_in_one_place() -> None:
    """No float option of any command takes ``float`` or ``click.FloatRange`` — both let
    ``nan`` and ``inf`` through — rather than :class:`FiniteNumber`."""
    loose = [
        f"{path} {param.opts[0]}"
        for path, command in _all_commands()
        for param in command.params
        if isinstance(param.type, click.types.FloatParamType | click.FloatRange)
        and not isinstance(param.type, FiniteNumber)
    ]
    assert loose == []
    floats = [
        f"{path} {param.opts[0]}"
        for path, command in _all_commands()
        for param in command.params
        if isinstance(param.type, FiniteNumber)
    ]
    assert len(floats) >= 20, floats


SIM = ["sim", "--ops", "10"]


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        ([*SIM, "--delta", "nan"], "--delta"),
        ([*SIM, "--tau", "nan"], "--tau"),
        ([*SIM, "--tau", "inf"], "--tau"),
        ([*SIM, "--client-timeout", "nan"], "--client-timeout"),
        ([*SIM, "--delta-min", "nan"], "--delta-min"),
        ([*SIM, "--think", "inf"], "--think"),
        ([*SIM, "--time-limit", "inf"], "--time-limit"),
        ([*SIM, "--timing", "partial-sync", "--gst", "-1"], "--gst"),
        ([*SIM, "--timing", "partial-sync", "--delay-cap", "nan"], "--delay-cap"),
        (["sweep", "--seeds", "0..1", "--horizon", "nan"], "--horizon"),
        (["sweep", "--seeds", "0..1", "--time-limit", "inf"], "--time-limit"),
        (["bounds", "--delta", "-inf"], "--delta"),
        (["check-history", "--timeout", "nan", "x"], "--timeout"),
        (["kv", "--cluster", "x", "--timeout", "-1", "get", "k"], "--timeout"),
        (["serve", "--config", "x", "--id", "p1", "--start-at", "nan"], "--start-at"),
        (["test", "--cluster", "x", "--time", "nan"], "--time"),
        (["test", "--cluster", "x", "--rate", "inf"], "--rate"),
        (["test", "--cluster", "x", "--op-timeout", "nan"], "--op-timeout"),
        (["test", "--cluster", "x", "--op-timeout", "0"], "--op-timeout"),
        (["test", "--cluster", "x", "--final-read-timeout", "-1"], "--final-read-timeout"),
        (["test", "--cluster", "x", "--final-read-timeout", "inf"], "--final-read-timeout"),
        (["test", "--cluster", "x", "--check-timeout", "inf"], "--check-timeout"),
        (["test", "--cluster", "x", "--check-timeout", "soon"], "--check-timeout"),
        (["cluster", "init", "--dir", "x", "--delta", "nan"], "--delta"),
        (["explore", "--horizon", "inf"], "--horizon"),
        (["worlds", "--tau", "nan"], "--tau"),
    ],
)
def test_non_finite_or_out_of_range_numbers_are_refused(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(argv, capsys)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"'{option}'" in err and "finite number" in err


def test_a_client_timeout_shorter_than_a_round_trip_is_warned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Fault-free, pb-crash with a 5 ms time-out breaks Pb4 (δ = 10 ms): say why, and
    name the least sensible value, 2δ."""
    code, _, err = run_cli([*SIM, "--ops", "200", "--client-timeout", "0.005"], capsys)
    assert code == 1
    assert "warning: --client-timeout 0.005 s is shorter than a round trip" in err
    assert "use at least 0.02" in err
    code, _, err = run_cli(["sim", "--protocol", "pb-general-omission", "--ops", "200",
                            "--client-timeout", "0.03"], capsys)  # fmt: skip
    assert "use at least 0.04" in err  # 2δ + its blocking time, 2δ
    code, _, err = run_cli([*SIM, "--client-timeout", "0.02"], capsys)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("option", ["--html", "--trace", "--history"])
def test_output_paths_are_checked_before_the_run(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 3,600-virtual-second run would come first if the path were checked after it."""
    argv = ["--ops", "100000", "--time-limit", "3600", option, "/nonexistent-dir/out"]
    assert_usage_error("sim", argv, "no directory '/nonexistent-dir'", capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["bounds", "--html", "/nonexistent-dir/t.html"],
        ["check-history", "--html", "/nonexistent-dir/h.html", "x"],
        ["explore", "--trace", "/nonexistent-dir/t.jsonl"],
        ["replay", "x", "--html", "/nonexistent-dir/r.html"],
        ["test", "--cluster", "x", "--html", "/nonexistent-dir/r.html"],
        ["flp", "--protocol", "wait-majority", "--trace", "/nonexistent-dir/t.jsonl"],
        ["flp", "--protocol", "wait-majority", "--html", "/nonexistent-dir/f.html"],
        ["rounds", "--protocol", "floodset", "--html", "/nonexistent-dir/r.html"],
    ],
)
def test_every_command_checks_its_output_paths_first(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_usage_error(argv[0], argv[1:], "no directory '/nonexistent-dir'", capsys)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_names_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    """Was ``cannot write None: No space left on device``."""
    assert_usage_error(
        "sim", ["--ops", "20", "--trace", "/dev/full"], "cannot write /dev/full: No space", capsys
    )


def test_undecodable_files_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was ``'utf-8' codec can't decode byte 0x92…`` with no file name."""
    bad = tmp_path / "schedule.txt"
    bad.write_bytes(b"deliver 1\n\x92\n")
    needle = f"cannot read the schedule {bad}: not UTF-8 text"
    assert_usage_error("sim", ["--timing", "async", "--schedule", str(bad)], needle, capsys)
    code, _, err = run_cli(["replay", str(bad)], capsys)
    assert code == 2 and str(bad) in err and "codec" not in err
    code, _, err = run_cli(["check-history", str(bad)], capsys)
    assert code == 2 and str(bad) in err and "codec" not in err


def test_an_existing_file_in_the_way_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was ``[Errno 17] File exists`` / ``cannot write None``: the path, the cause."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    assert_usage_error(
        "worlds", ["--trace-dir", str(blocker / "sub")], f"cannot create {blocker}/sub", capsys
    )
    assert_usage_error(
        "bounds", ["--traces", str(blocker / "sub")], f"cannot create {blocker}/sub", capsys
    )


@pytest.mark.parametrize("argv", [[], ["cluster"]])
def test_no_subcommand_prints_the_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(argv, capsys)
    assert (code, err) == (0, "")
    assert out.startswith("Usage: smrkit") and "Commands:" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and out.startswith("smrkit, version ")


@pytest.mark.parametrize(
    "cut",
    [
        "send-omission:p2-",  # send-omission:p2->p3@0.2 unquoted: `>` redirected stdout
        "link:p1-",  # link:p1->p2@0.5
        "receive-omission:p3",  # receive-omission:p3<-p1@0.2: `<` redirected stdin
    ],
)
def test_a_fault_spec_cut_by_the_shell_says_it_needs_quotes(
    cut: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_usage_error("sim", ["--fault", cut], "Quote a spec with -> or <-", capsys)


def test_help_and_readme_quote_the_directed_specs(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(["sim", "--help"], capsys)
    assert "'send-omission:p2->p3@0.2..0.9'" in out
    assert "'receive-omission:p3<-p1@0.2..0.9'" in out
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.strip().startswith("$ smrkit")]
    for line in commands:
        for word in line.split():
            if "->" in word or "<-" in word:
                assert word.startswith("'"), line


def test_a_nemesis_link_cut_by_the_shell_says_it_needs_quotes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(["nemesis", "--cluster", "x", "omit", "p1-"], capsys)
    assert code == 2 and "cut by the shell" in err and "omit 'p1->p2'" in err


def test_traces_read_back_gzipped_or_not_and_a_bad_one_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "t.jsonl.gz"
    broken.write_bytes(gzip.compress(b'{"format": "smrkit-trace"}\n')[:-6])
    with pytest.raises(TraceFormatError, match=str(broken)):
        read_trace(broken)


def test_shell_completion_completes_commands() -> None:
    """The README's completion set-up: click's own, through ``_SMRKIT_COMPLETE``."""
    import subprocess
    import sys

    env = {"_SMRKIT_COMPLETE": "bash_complete", "COMP_WORDS": "smrkit che", "COMP_CWORD": "1"}
    code = "from smrkit.cli.main import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.split() == ["plain,check-history"]


@pytest.mark.parametrize(
    ("command", "needles"),
    [
        ("kv", ["--timeout SECONDS", "Example", "smrkit kv --cluster /tmp/demo put x 1"]),
        ("check-history", ["Examples:", "check-history - < run.jsonl", "S seconds"]),
        ("test", ["--time SECONDS", "--rate OPS/S"]),
    ],
)
def test_help_gives_units_and_an_example(
    command: str, needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli([command, "--help"], capsys)
    assert code == 0
    for needle in needles:
        assert needle in out, needle


def test_kv_warns_when_its_timeout_is_shorter_than_the_clusters_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cluster made but not up: the command fails, and says first that 0.1 s could not
    have been enough with δ = 0.25 s."""
    from smrkit.net.cluster import init_cluster

    init_cluster(tmp_path / "c", protocol="pb-crash", replicas=3)
    code, _, err = run_cli(["kv", "--cluster", str(tmp_path / "c"), "--timeout", "0.1",
                            "get", "x"], capsys)  # fmt: skip
    assert code != 0
    assert "warning: --timeout 0.1 s is shorter than a round trip" in err
    assert "use at least 0.5" in err
