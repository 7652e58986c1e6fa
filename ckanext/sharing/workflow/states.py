"""States of access requests and grants (SPEC §4), used everywhere instead of string literals.

A leaf module (no imports), so the model, the policy's fact gatherer and the workflow can all use it.
"""
from __future__ import annotations

REQUEST_PENDING = "pending"
REQUEST_APPROVED = "approved"
REQUEST_REJECTED = "rejected"
REQUEST_WITHDRAWN = "withdrawn"
REQUEST_CANCELLED = "cancelled"
# The 2025 Regulation (SPEC §4b): returned for completion (Art. 21), escalated to the authority (Art. 28).
REQUEST_RETURNED = "returned"
REQUEST_ESCALATED = "escalated"
REQUEST_STATES = (REQUEST_PENDING, REQUEST_APPROVED, REQUEST_REJECTED, REQUEST_WITHDRAWN, REQUEST_CANCELLED,
                  REQUEST_RETURNED, REQUEST_ESCALATED)
# Requests still in someone's hands: one per requester and dataset (a new one waits for these).
REQUEST_OPEN_STATES = (REQUEST_PENDING, REQUEST_RETURNED, REQUEST_ESCALATED)

# An extension of the reply deadline (Art. 21): asked by a decider, decided by the authority.
EXTENSION_ASKED = "asked"
EXTENSION_APPROVED = "approved"
EXTENSION_REFUSED = "refused"

# How the data is shared (SPEC §6 共享方式, Art. 20/22): the values a request may name.
SHARE_METHODS = ("接口", "文件下载", "库表交换")

GRANT_ACTIVE = "active"
GRANT_EXPIRED = "expired"
GRANT_REVOKED = "revoked"
GRANT_STATES = (GRANT_ACTIVE, GRANT_EXPIRED, GRANT_REVOKED)

# Grants ending within this many days get one reminder (SPEC §4).
REMINDER_DAYS = 7
