"""Searches over the kernel: seed sweeps, the model checker, and the constructions that
turn the seeds' impossibility proofs into runs.

The model checker, module by module:

* :mod:`~smrkit.explore.frozen` — node states as frozen, interned values;
* :mod:`~smrkit.explore.space` — a world's searchable states and the moves between them
  (``async``, ``synchronous`` with chosen delays, ``lock-step``), through the kernel's
  one effect applier;
* :mod:`~smrkit.explore.properties` — ``always``, ``sometimes``, ``eventually``, and the
  :class:`~smrkit.explore.properties.View` a condition reads;
* :mod:`~smrkit.explore.search` — BFS and DFS in Stateright's terms;
* :mod:`~smrkit.explore.symmetry` — Stateright's representative over renamed servers;
* :mod:`~smrkit.explore.history` — the client history Stateright keeps in a state;
* :mod:`~smrkit.explore.models` — the models ``smrkit explore`` checks;
* :mod:`~smrkit.explore.replay` — a path re-run on a kernel world, as a trace.

To check a protocol of your own: build its nodes, a
:class:`~smrkit.explore.space.SpaceConfig` (timing, network, crashes, a
:class:`~smrkit.explore.space.Recorder` for auxiliary state, a move order) and
properties, then ``search(Space(nodes, config), properties)``.
"""
