"""Who may do what in the registry (its README lists it), as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.registry.settings import RegistrySettings
from shared.auth import Principal, Role, require
from shared.deps import settings, work
from shared.uow import UnitOfWork

# Operators register and change households; auditors may read them.
OperatorWork = Annotated[UnitOfWork, work(Role.registry_operator)]
Operator = Annotated[Principal, require(Role.registry_operator)]
Reader = Annotated[Principal, require(Role.registry_operator, Role.auditor)]
Settings = Annotated[RegistrySettings, Depends(settings)]
