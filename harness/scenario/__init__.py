"""Scenario files: the model (model.py), toxic attributes (toxics.py), loading (loading.py)."""

from harness.scenario.loading import check_scenario, load_scenario, validate_scenario_file
from harness.scenario.model import (
    Action,
    EndpointExpect,
    Expect,
    ExpectBase,
    FaultEntry,
    Load,
    LoadOverride,
    Phase,
    Profile,
    Scenario,
    Stage,
)

__all__ = [
    "Action", "EndpointExpect", "Expect", "ExpectBase", "FaultEntry", "Load", "LoadOverride", "Phase", "Profile",
    "Scenario", "Stage", "check_scenario", "load_scenario", "validate_scenario_file",
]
