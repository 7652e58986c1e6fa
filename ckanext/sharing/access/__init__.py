"""The read path (SPEC §1–3): the one policy, the roles, the facts they read, masking, the request guard,
the activity filter and tier input. Kept empty so that importing one module imports nothing else."""
