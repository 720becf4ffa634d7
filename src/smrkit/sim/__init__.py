"""Simulation: the world kernel (:mod:`smrkit.sim.kernel`), timing models as networks
(:mod:`~smrkit.sim.network`) and choosers (:mod:`~smrkit.sim.choosers`), observers,
fault plans, workloads, traces, and the simulator that drives them."""
