"""The audit ledger (SPEC §5): the hash chain, the event names, the data-access record and the CSV export."""
