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
OWNER_CHANGE = "owner_change"
# The request's lifecycle under the 2025 Regulation (Art. 21, 28).
REQUEST_RETURN = "request_return"
REQUEST_RESUBMIT = "request_resubmit"
REQUEST_EXTEND = "request_extend"
EXTENSION_DECIDE = "extension_decide"
REQUEST_ESCALATE = "request_escalate"
REQUEST_RESOLVE = "request_resolve"
# regb: obligations after a decision (Regulation Art. 22, 26, 27, 29)
GRANT_DELIVER = "grant_deliver"
DELIVERY_OVERDUE = "delivery_overdue"
SUSPENSION_CREATE = "suspension_create"
SUSPENSION_LIFT = "suspension_lift"
USE_REPORT_CREATE = "use_report_create"
USE_REPORT_DUE = "use_report_due"
USE_REPORT_PURGE = "use_report_purge"
CORRECTION_CREATE = "correction_create"
CORRECTION_ANSWER = "correction_answer"
CORRECTION_OVERDUE = "correction_overdue"


def label(name: str) -> str:
    """The event's name in the page's language (the ledger page shows it beside the code; CSV and API keep codes)."""
    from ckan.plugins.toolkit import _

    return {
        TIER_CHANGE: _("Sharing tier changed"), REQUEST_CREATE: _("Request submitted"),
        REQUEST_APPROVE: _("Request approved"), REQUEST_REJECT: _("Request rejected"),
        REQUEST_WITHDRAW: _("Request withdrawn"), REQUEST_CANCEL: _("Request cancelled"),
        REQUEST_OVERDUE: _("Request overdue"), GRANT_REVOKE: _("Grant revoked"), GRANT_EXPIRE: _("Grant expired"),
        DATA_ACCESS: _("Data accessed"), PI_ATTEST: _("Personal-information attestation"),
        OWNER_CHANGE: _("Owning department changed"), REQUEST_RETURN: _("Request returned for completion"),
        REQUEST_RESUBMIT: _("Request resubmitted"), REQUEST_EXTEND: _("Extension asked"),
        EXTENSION_DECIDE: _("Extension decided"), REQUEST_ESCALATE: _("Referred for coordination"),
        REQUEST_RESOLVE: _("Coordination resolved"), GRANT_DELIVER: _("Data delivered"),
        DELIVERY_OVERDUE: _("Delivery overdue"), SUSPENSION_CREATE: _("Sharing suspended"),
        SUSPENSION_LIFT: _("Suspension lifted"), USE_REPORT_CREATE: _("Use report filed"),
        USE_REPORT_DUE: _("Use report due"), USE_REPORT_PURGE: _("Use records purged"),
        CORRECTION_CREATE: _("Correction reported"), CORRECTION_ANSWER: _("Correction answered"),
        CORRECTION_OVERDUE: _("Correction overdue"),
    }.get(name, name)
