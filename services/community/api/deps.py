"""Who may do what in the community service (its README lists it), as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.community.settings import CommunitySettings
from shared.auth import Principal, Role, require
from shared.deps import public_work, settings, work
from shared.uow import UnitOfWork

# Anyone files complaints and gives feedback (the caller is `public` without a token).
PublicWork = Annotated[UnitOfWork, public_work()]
# Facilitators handle complaints and record meetings.
FacilitatorWork = Annotated[UnitOfWork, work(Role.community_facilitator)]
# Facilitators, programme managers and auditors read complaints and meetings.
Reader = Annotated[
    Principal, require(Role.community_facilitator, Role.programme_manager, Role.auditor)
]
Settings = Annotated[CommunitySettings, Depends(settings)]
# Who may see a named reporter's contact: the facilitator who calls back.
SEES_CONTACTS = (Role.community_facilitator, Role.admin)
# Mentoring cases are about vulnerable households: facilitators and auditors read them
# (programme managers see the per-RW counts, `Reader`); only facilitators read the notes.
CaseReader = Annotated[Principal, require(Role.community_facilitator, Role.auditor)]
SEES_CASE_NOTES = (Role.community_facilitator, Role.admin)
