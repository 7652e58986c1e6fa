"""``ckan sharing ...`` commands. Each command is thin: it calls the module that owns the work."""
from __future__ import annotations

import click

__all__ = ["sharing"]


@click.group(short_help="ckanext-sharing: tiers, requests, grants, audit, demo and checks")
def sharing() -> None:
    """Commands of ckanext-sharing."""


@sharing.group()
def audit() -> None:
    """The hash-chained audit ledger."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 naming the first broken rows if any row was edited or deleted."""
    from ckanext.sharing import audit as ledger

    ok, count, problems = ledger.verify()
    for line in problems:
        click.secho(line, fg="red", err=True)
    if not ok:
        raise click.exceptions.Exit(1)
    click.secho(f"audit chain intact: {count} rows", fg="green")
