"""Who may do what in training (its README lists it), as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.training.settings import TrainingSettings
from shared.auth import Principal, Role, require
from shared.deps import settings, work
from shared.uow import UnitOfWork

# Coordinators run the courses; programme managers and auditors may read them.
CoordinatorWork = Annotated[UnitOfWork, work(Role.training_coordinator)]
READERS = (Role.training_coordinator, Role.programme_manager, Role.auditor)
Reader = Annotated[Principal, require(*READERS)]
Settings = Annotated[TrainingSettings, Depends(settings)]
