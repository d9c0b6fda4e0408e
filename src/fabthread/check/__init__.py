"""fabthread.check: manufacturability checks that catch what would fail on the machine.

``check_part(part, machine, material=None, process=None) -> Findings`` runs the rule
families that apply to the process (see ``fabthread.check.run``); each family is a module
with pure functions ``(part, machine, material, *, limits) -> list[Finding]``. Limits come
from the profiles through ``CheckLimits`` (``fabthread.check.limits``). ``sweep_design``
(``fabthread.check.sweep``) checks a design across its parameter ranges.
"""

from fabthread.check.limits import CheckLimits
from fabthread.check.run import check_part
from fabthread.check.sweep import SweepReport, sweep_design

__all__ = ["CheckLimits", "SweepReport", "check_part", "sweep_design"]
