"""Each protocol's HTML page speaks of what the protocol has: a Byzantine model's path
is drawn in rounds (who sent what to whom, the Byzantine processes, the decisions), not
as a primary-backup run; a space-time page names primaries only for a run that has one,
and its legend only the kinds of message the run sent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from smrkit.cli.main import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code or 0), capsys.readouterr().out


def legend(html: str) -> list[str]:
    found = re.search(r'<p class="legend">(.*?)</p>', html)
    assert found is not None
    return [key for key in re.sub(r"<[^>]+>", "|", found.group(1)).split("|") if key.strip()]


def test_a_byzantine_counterexample_is_drawn_in_rounds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """EIG with n = 3 ≤ 3f: the explorer's counterexample to agreement, on its page and
    on the page of its replay."""
    trace, page, again = tmp_path / "eig.jsonl", tmp_path / "eig.html", tmp_path / "again.html"
    argv = ["explore", "--model", "eig", "--servers", "3", "--f", "1"]
    code, out = run([*argv, "--trace", str(trace), "--html", str(page)], capsys)
    assert code == 1 and "agreement          violated (path of 6 moves)" in out
    code, _ = run(["replay", str(trace), "--html", str(again)], capsys)
    assert code == 1
    for html in (page.read_text(), again.read_text()):
        assert "<h2>Rounds</h2>" in html and "Space-time diagram" not in html
        assert "n = 3, built for f = 1; Byzantine: p3" in html
        assert '<th class="proc">p3 <span class="byz">Byzantine</span></th>' in html
        assert "decided differently: 0 by p1 in round 2; &#x27;NU&#x27; by p2 in round 2" in html
        assert "decides 0" in html and "decides &#x27;NU&#x27;" in html
        assert "→ p1, p2: <code>Level(" in html  # what p3 sent, to whom, in round 1
        assert "primary" not in html.lower() and "δ" not in html


def test_a_space_time_page_names_a_primary_only_when_the_run_has_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    paxos, pb = tmp_path / "paxos.html", tmp_path / "pb.html"
    assert run(["explore", "--model", "paxos", "--html", str(paxos)], capsys)[0] == 0
    html = paxos.read_text()
    assert legend(html)[0] == "other" and "PrimaryHint" not in legend(html)
    assert "primary" not in " ".join(legend(html)) and "lacked a primary" not in html
    assert "Intervals with no primary" not in html
    argv = ["sim", "--protocol", "pb-crash", "--ops", "30", "--fault", "crash:p1@0.05"]
    assert run([*argv, "--html", str(pb)], capsys)[0] == 0
    html = pb.read_text()
    assert {"ClientRequest", "ClientReply", "primary", "no primary"} <= set(legend(html))
    assert "Intervals with no primary: 0.05" in html


def test_an_agreement_run_outside_lock_step_is_drawn_in_time_not_in_one_round_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """ben-or under async has no lock-step rounds: a round grid put every message in its
    "start" column. Its page shows the decisions and the space-time diagram instead;
    a lock-step run keeps its rounds."""
    page, rounds = tmp_path / "ben-or.html", tmp_path / "floodset.html"
    assert run(["sim", "--protocol", "ben-or", "--html", str(page)], capsys)[0] == 0
    html = page.read_text()
    assert "async: no lock-step rounds" in html and "<h2>Rounds</h2>" not in html
    assert "<h2>Decisions</h2>" in html and "0 at step 51" in html
    assert "Space-time diagram" in html and "72 of its 72 messages are drawn" in html
    assert run(["sim", "--protocol", "floodset", "--html", str(rounds)], capsys)[0] == 0
    html = rounds.read_text()
    assert "<h2>Rounds</h2>" in html and "Space-time diagram" not in html


def test_a_round_claim_is_not_met_by_processes_that_never_decided(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """dolev-strong outside lock-step sends nothing and decides nothing: its
    decides-by-round claim is violated, not vacuously met."""
    page = tmp_path / "ds.html"
    argv = ["sim", "--protocol", "dolev-strong", "--timing", "synchronous", "--json"]
    code, out = run([*argv, "--html", str(page)], capsys)
    checks = json.loads(out)["checks"]
    assert code == 1 and not checks["decides_by_round"]["ok"]
    assert "p1 never decided" in checks["decides_by_round"]["detail"]
    assert "0 of its 0 messages are drawn" in page.read_text()
