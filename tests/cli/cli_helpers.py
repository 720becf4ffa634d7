"""Running the ``smrkit`` command in-process, as the command-line tests do."""

from __future__ import annotations

import pytest

from smrkit.cli.main import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``smrkit ARGS``: its exit status, stdout and stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def assert_usage_error(
    command: str, args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``smrkit COMMAND ARGS`` is refused the way every bad usage is: exit 2, nothing on
    stdout, and one line on stderr that names the problem (``needle``), no traceback."""
    code, out, err = run_cli([command, *args], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"smrkit {command}: error:") and needle in lines[0]
    assert "Traceback" not in err
