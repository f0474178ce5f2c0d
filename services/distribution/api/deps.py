"""Who may do what in distribution (its README lists it), as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.distribution.settings import DistributionSettings
from shared.auth import Principal, Role, require
from shared.deps import settings, work
from shared.uow import UnitOfWork

# Managers budget, certify officers, schedule, allocate and close; the community endorses;
# officers hand over. Each reads what its work needs; auditors read everything.
ManagerWork = Annotated[UnitOfWork, work(Role.programme_manager)]
FacilitatorWork = Annotated[UnitOfWork, work(Role.community_facilitator)]
OfficerWork = Annotated[UnitOfWork, work(Role.distribution_officer)]
# Budgets, officers' certificates and a round's money per RW: the manager's and auditors'.
MONEY_READERS = (Role.programme_manager, Role.auditor)
MoneyReader = Annotated[Principal, require(*MONEY_READERS)]
# A round (its programme, period, poskos): what the facilitator endorses and the officer
# works in; the schedule is announced to residents anyway.
RoundReader = Annotated[
    Principal,
    require(
        Role.programme_manager,
        Role.community_facilitator,
        Role.distribution_officer,
        Role.auditor,
    ),
]
# Allocations, manifests and the households view: who allocates and who hands aid over.
ALLOCATION_READERS = (Role.programme_manager, Role.distribution_officer, Role.auditor)
AllocationReader = Annotated[Principal, require(*ALLOCATION_READERS)]
# Who may ask "has this NIK's household aid in this round?": those who hand aid over.
Finder = Annotated[Principal, require(Role.distribution_officer, Role.programme_manager)]
Settings = Annotated[DistributionSettings, Depends(settings)]
