"""The gateway's own payload builders, each defined once (identity rows as callers see
them)."""

from __future__ import annotations

from typing import Any

from contracts.api.identity import InvitationView, InvitedOrganization, MyOrganization
from gateway.domain.identity import effective_status


def my_organization(row: Any) -> MyOrganization:
    return MyOrganization(id=row.id, name=row.name, personal=row.personal, role=row.role)


def invitation_view(row: Any) -> InvitationView:
    """An invitation row (db.identity's view) with its effective status."""
    return InvitationView(
        id=row.id,
        organization=InvitedOrganization(id=row.organization_id, name=row.organization_name),
        role=row.role,
        handle=row.invitee_handle,
        invited_by=row.inviter_handle,
        status=effective_status(row.status, row.expires_at, row.now),
        created_at=row.created_at,
        expires_at=row.expires_at,
        responded_at=row.responded_at,
    )
