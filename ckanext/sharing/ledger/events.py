"""Names of the events written to the audit ledger (SPEC §5), used instead of string literals."""
from __future__ import annotations

TIER_CHANGE = "tier_change"
REQUEST_CREATE = "request_create"
REQUEST_APPROVE = "request_approve"
REQUEST_REJECT = "request_reject"
REQUEST_WITHDRAW = "request_withdraw"
REQUEST_CANCEL = "request_cancel"
REQUEST_OVERDUE = "request_overdue"
GRANT_REVOKE = "grant_revoke"
GRANT_EXPIRE = "grant_expire"
DATA_ACCESS = "data_access"
PI_ATTEST = "pi_attest"
