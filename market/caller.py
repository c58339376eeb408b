"""Who is calling the market: a tenant and the role of its key (the API authenticates it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """Who is calling: the tenant its key belongs to and the key's role."""

    tenant_id: str
    role: str  # owner, viewer or platform
    #: The key's row id (audit log, webhooks tied to their key); None outside the API.
    key_id: int | None = None

    @property
    def is_platform(self) -> bool:
        return self.role == "platform"
