"""The request → decision → grant workflow (SPEC §4): states, the clock, transitions, queries,
dictization, the after-commit outbox, notifications and scheduled work. Kept empty so that importing
one module (e.g. ``states``) imports nothing else."""
