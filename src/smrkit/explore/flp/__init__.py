"""Seed 004 made executable: FLP's configurations and valency, Lemma 1, and Lemma 2's
adversary building the run that never decides, for any registered binary consensus
protocol (:mod:`smrkit.protocols.consensus.binary`).

* :mod:`~smrkit.explore.flp.configuration` — a configuration (a kernel world under
  ``async``), what decided in it, whether it broke safety or is blocked;
* :mod:`~smrkit.explore.flp.valency` — the valency oracle, with witness schedules;
* :mod:`~smrkit.explore.flp.lemma1` — X_0 … X_n classified, the first ambiguous one;
* :mod:`~smrkit.explore.flp.lemma2` — :func:`build_nondeciding_run`, Theorem 1's run;
* :mod:`~smrkit.explore.flp.protocols` — which protocol a name means.
"""
