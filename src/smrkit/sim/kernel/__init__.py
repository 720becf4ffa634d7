"""The world kernel: one transition system under every run of smrkit.

(Documentation for phase 2 follows once the API settles.)
"""

from smrkit.sim.kernel.effects import CrashCut, EffectSink, apply_effects
from smrkit.sim.kernel.events import Crash, Deliver, Event, FaultChange, Fire, Round, Start
from smrkit.sim.kernel.records import Record
from smrkit.sim.kernel.world import Observer, SimulationError, World, enabled, step

__all__ = [
    "Crash",
    "CrashCut",
    "Deliver",
    "EffectSink",
    "Event",
    "FaultChange",
    "Fire",
    "Observer",
    "Record",
    "Round",
    "SimulationError",
    "Start",
    "World",
    "apply_effects",
    "enabled",
    "step",
]
