"""Machine clients (SPEC §3b): honest errors, output-only values, the audit of API reads, action docs and
the OpenAPI description of the ``sharing_*`` actions."""
