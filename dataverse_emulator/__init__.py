"""A faithful local emulator of the Dataverse Web API v9.2 for tests and the demo.

``from dataverse_emulator import Emulator, OrgSpec, Fault``. Never deployed.
"""

from __future__ import annotations

from .emulator import Emulator
from .faults import Counters, Fault
from .generator import OrgSpec, SampleOrg, generate_org

__all__ = ["Counters", "Emulator", "Fault", "OrgSpec", "SampleOrg", "generate_org"]
