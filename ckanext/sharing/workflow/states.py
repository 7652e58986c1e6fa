"""States of access requests and grants (SPEC §4), used everywhere instead of string literals.

A leaf module (no imports), so the model, the policy's fact gatherer and the workflow can all use it.
"""
from __future__ import annotations

REQUEST_PENDING = "pending"
REQUEST_APPROVED = "approved"
REQUEST_REJECTED = "rejected"
REQUEST_WITHDRAWN = "withdrawn"
REQUEST_CANCELLED = "cancelled"
REQUEST_STATES = (REQUEST_PENDING, REQUEST_APPROVED, REQUEST_REJECTED, REQUEST_WITHDRAWN, REQUEST_CANCELLED)

GRANT_ACTIVE = "active"
GRANT_EXPIRED = "expired"
GRANT_REVOKED = "revoked"
GRANT_STATES = (GRANT_ACTIVE, GRANT_EXPIRED, GRANT_REVOKED)

# Grants ending within this many days get one reminder (SPEC §4).
REMINDER_DAYS = 7
