"""Who may do what in distribution (its README lists it), as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.distribution.settings import DistributionSettings
from shared.auth import Principal, Role, require
from shared.deps import settings, work
from shared.uow import UnitOfWork

# Managers budget, certify officers, schedule, allocate and close; the community endorses;
# officers hand over. Everyone of the programme (and auditors) may read.
ManagerWork = Annotated[UnitOfWork, work(Role.programme_manager)]
FacilitatorWork = Annotated[UnitOfWork, work(Role.community_facilitator)]
OfficerWork = Annotated[UnitOfWork, work(Role.distribution_officer)]
READERS = (
    Role.programme_manager,
    Role.distribution_officer,
    Role.community_facilitator,
    Role.auditor,
)
Reader = Annotated[Principal, require(*READERS)]
# Who may ask "has this NIK's household aid in this round?": those who hand aid over.
Finder = Annotated[Principal, require(Role.distribution_officer, Role.programme_manager)]
Settings = Annotated[DistributionSettings, Depends(settings)]
