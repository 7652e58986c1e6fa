"""``ckan sharing ...`` commands. Each command is thin: it calls the module that owns the work."""
from __future__ import annotations

import base64
from typing import Callable, TypeVar

import click

from ckanext.sharing.workflow.states import GRANT_STATES, REQUEST_STATES

__all__ = ["sharing"]

T = TypeVar("T")


def _run(work: Callable[[], T], *errors: type[Exception]) -> T:
    """``work()``; the errors it expects (bad input, a missing file or key) end the command as a click error."""
    try:
        return work()
    except errors as exc:
        raise click.ClickException(str(exc))


def _wrote(out: str, what: str) -> None:
    """Say on stderr what a command wrote to the file OUT (nothing when it wrote to stdout, '-')."""
    if out != "-":
        click.echo(f"{what} written to {out}", err=True)


@click.group(short_help="ckanext-sharing: tiers, requests, grants, audit, demo and checks")
def sharing() -> None:
    """Commands of ckanext-sharing."""


@sharing.command("check-access")
@click.option("--url", required=True, help="Base URL of the live portal to probe, e.g. http://127.0.0.1:5000")
@click.option("--keep", is_flag=True, help="Keep the throw-away organizations, users and datasets.")
@click.option("--crawl", is_flag=True,
              help="Also run the leak crawler: every action and route as every role (SPEC §3).")
@click.option("--budget", default=600, show_default=True, help="Seconds the crawler may take (with --crawl).")
def check_access(url: str, keep: bool, crawl: bool, budget: int) -> None:
    """Probe a live portal: throw-away users of every role and datasets of every tier, every surface.

    Prints a role × tier table (expected access level, surfaces that held) and the failing cells;
    with --crawl also the leak crawler's summary and every leak it found (actions and routes are those of
    this command's configuration, which must be the portal's). Exits 1 on any failure. Everything it
    creates is purged afterwards unless --keep is given.
    """
    import secrets

    from ckanext.sharing.dev import conformance as cf
    from ckanext.sharing.dev import crawler

    world = cf.World(client=cf.RequestsClient(url), run=secrets.token_hex(4))
    report = None
    try:
        cf.populate(world)
        results = cf.run_cells(world)
        click.echo(cf.render_table(results))
        if crawl:
            report = crawler.crawl(world, budget=budget)
            click.echo(report.render())
    finally:
        if not keep:
            cf.destroy_world(world)
            click.echo(f"removed the throw-away organizations, users and datasets of run {world.run}")
    failed = [r for r in results if not r.ok]
    if failed or (report is not None and (report.findings or not report.complete)):
        raise click.exceptions.Exit(1)
    click.secho(f"all {len(results)} cells hold" + (", the crawler found no leak" if report else ""), fg="green")


@sharing.group()
def audit() -> None:
    """The hash-chained audit ledger."""


@audit.command("verify")
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A signed checkpoint saved earlier (repeatable): the ledger must still extend each one.")
@click.option("--key", default=None, help="The log's public key (or a file with it); default: the configured key's.")
def audit_verify(checkpoints: tuple[str, ...], key: str | None) -> None:
    """Recompute the hash chain and the Merkle tree from the rows; with --checkpoint, prove by RFC 6962
    consistency proofs that the ledger extends each saved checkpoint. Exit 1 with the first bad position."""
    from ckanext.sharing.ledger import checkpoint as cpt
    from ckanext.sharing.ledger import verification

    try:
        opened = []
        if checkpoints:
            verifier = verification.load_verifier(key)
            if verifier is None:
                raise cpt.CheckpointError("no public key to check the checkpoints: pass --key")
            opened = verification.open_checkpoint_files(list(checkpoints), verifier)
    except cpt.CheckpointError as exc:
        click.secho(str(exc), fg="red", err=True)
        raise click.exceptions.Exit(1)
    report = verification.verify_ledger(opened)
    for problem in report.problems:
        click.secho(problem.message, fg="red", err=True)
    if not report.ok:
        click.secho(f"first bad position: {report.first_bad_position}", fg="red", err=True)
        raise click.exceptions.Exit(1)
    click.secho(f"audit chain intact: {report.size} rows; Merkle tree root "
                f"{base64.b64encode(report.root).decode()}", fg="green")
    for label, size in report.verified:
        click.echo(f"extends {label} ({size} leaves)")


@audit.command("checkpoint")
@click.option("--dir", "directory", default=None, type=click.Path(file_okay=False),
              help="Also write it to this directory (default: ckanext.sharing.audit_checkpoint_dir).")
def audit_checkpoint(directory: str | None) -> None:
    """Sign the current tree head with ckanext.sharing.audit_signing_key and print the checkpoint
    (C2SP tlog-checkpoint). Keep it outside the database: it is what `audit verify --checkpoint` trusts."""
    from ckan import model

    from ckanext.sharing.ledger import checkpoint as cpt
    from ckanext.sharing.ledger import signing

    note, _, path = _run(lambda: signing.make_checkpoint(model.Session, directory), cpt.CheckpointError)
    click.echo(note, nl=False)
    if path:
        click.echo(f"written to {path}", err=True)


@audit.command("keygen")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--name", default=None, help="The log's name (origin); default: <site host>/sharing-audit.")
@click.option("--force", is_flag=True, help="Replace an existing key file (checkpoints signed before no longer verify "
                                            "with the new key).")
def audit_keygen(path: str, name: str | None, force: bool) -> None:
    """Create an Ed25519 signing key file for checkpoints; print its public key."""
    from ckanext.sharing.ledger import checkpoint as cpt
    from ckanext.sharing.ledger import signing

    key = _run(lambda: signing.keygen(path, name, overwrite=force), cpt.CheckpointError)
    click.echo(str(key.verifier()))
    click.echo(f"signing key written to {path}; set ckanext.sharing.audit_signing_key = {path}", err=True)


@audit.command("key")
def audit_key() -> None:
    """Print the public key of ckanext.sharing.audit_signing_key (also served at /api/3/sharing/audit-key)."""
    from ckanext.sharing.ledger import checkpoint as cpt
    from ckanext.sharing.ledger import signing

    key = _run(signing.verifier, cpt.CheckpointError)
    if key is None:
        raise click.ClickException("ckanext.sharing.audit_signing_key is not set")
    click.echo(str(key))


@audit.command("verify-proof")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", default=None, help="The log's public key (or a file with it), e.g. from /api/3/sharing/audit-key.")
def audit_verify_proof(path: str, key: str | None) -> None:
    """Check offline a proof from sharing_audit_proof (JSON with the leaf, its proof and the signed
    checkpoint): exit 1 unless the row is in the signed tree."""
    from ckanext.sharing.ledger import checkpoint as cpt
    from ckanext.sharing.ledger import verification

    try:
        _, notes = verification.verify_proof_file(path, key)
    except cpt.CheckpointError as exc:
        click.secho(str(exc), fg="red", err=True)
        raise click.exceptions.Exit(1)
    for line in notes:
        click.echo(line)
    click.secho("proof verifies", fg="green")


@audit.command("export")
@click.argument("out", default="-")
@click.option("--organization", "organization", default=None, help="Only rows of this organization (id or name).")
@click.option("--package", "package", default=None, help="Only rows of this dataset (id or name).")
@click.option("--action", "action", default=None, help="Only this event, e.g. data_access.")
@click.option("--since", default=None, help="Rows at or after this ISO date/date-time.")
@click.option("--until", default=None, help="Rows at or before this ISO date/date-time.")
def audit_export(out: str, organization: str | None, package: str | None, action: str | None,
                 since: str | None, until: str | None) -> None:
    """Write the audit ledger (or a filtered part of it) as CSV to OUT ('-' = stdout), oldest first."""
    from ckanext.sharing.ledger import export

    count = _run(lambda: export.write_csv(out, organization=organization, package=package,
                                          action=action, since=since, until=until), ValueError)
    _wrote(out, f"{count} audit rows")


@sharing.group()
def grants() -> None:
    """Access grants of the request workflow."""


@grants.command("expire")
@click.option("--enqueue", is_flag=True, help="Put the job on CKAN's queue for a worker instead of running it here.")
def grants_expire(enqueue: bool) -> None:
    """Mark ended grants expired (audited), send the 7-day expiry reminders and tell deciders of overdue
    requests. Run it hourly from cron."""
    from ckanext.sharing.workflow import outbox, schedule

    if enqueue:
        job_id = outbox.enqueue(schedule.expire_and_remind)
        if job_id is None:
            raise click.ClickException("could not enqueue the job (is Redis up?)")
        click.echo(f"enqueued job {job_id}")
        return
    result = schedule.expire_and_remind()
    click.echo(f"{len(result['expired'])} grant(s) expired, {len(result['reminders'])} reminder(s) queued, "
               f"{len(result['overdue'])} overdue request(s) flagged")


@grants.command("list")
@click.option("--state", default=None, type=click.Choice(GRANT_STATES))
def grants_list(state: str | None) -> None:
    """List grants (tab separated): id, state, dataset, grantee, expires."""
    from ckanext.sharing.workflow import report

    for line in report.grant_lines(state):
        click.echo(line)


@sharing.group()
def requests() -> None:
    """Access requests of the request workflow."""


@requests.command("list")
@click.option("--state", default=None,
              type=click.Choice(REQUEST_STATES))
@click.option("--overdue", is_flag=True, help="Only pending requests past their reply deadline.")
def requests_list(state: str | None, overdue: bool) -> None:
    """List requests (tab separated): id, state, due date, overdue, dataset, requester; overdue first."""
    from ckanext.sharing.workflow import report

    for line in report.request_lines(state, overdue):
        click.echo(line)


@sharing.group()
def demo() -> None:
    """The demo catalogue of ``make run``."""


@demo.command("load")
@click.option("--real/--no-real", default=True, show_default=True,
              help="Also load real catalogue records from ../shared/data/cnpds when present.")
@click.option("--limit", default=300, show_default=True, help="How many real records to load.")
def demo_load(real: bool, limit: int) -> None:
    """Load departments, demo users and datasets in all three tiers (idempotent: skips what exists)."""
    from ckanext.sharing.dev import demo as demo_module

    source = demo_module.cnpds_dir() if real else None
    if real and source is None:
        click.echo("real records not found (../shared/data/cnpds): loading the shipped demo catalogue only")

    def progress(n: int, total: int) -> None:
        if n % 50 == 0 or n == total:
            click.echo(f"  datasets {n}/{total}")

    report = demo_module.load(real=source is not None, limit=limit, source=source, progress=progress)
    created = ", ".join(f"{v} {k}" for k, v in sorted(report.created.items())) or "nothing"
    skipped = ", ".join(f"{v} {k}" for k, v in sorted(report.skipped.items())) or "nothing"
    click.echo(f"demo catalogue: created {created}; already there: {skipped} ({report.seconds:.1f}s)")
    for line in report.errors[:20]:
        click.secho(f"  refused: {line}", fg="yellow", err=True)
    if report.errors:
        click.secho(f"{len(report.errors)} dataset(s) refused by validation", fg="yellow", err=True)


@demo.command("logins")
def demo_logins() -> None:
    """Print the demo users, their fixed passwords and roles."""
    from ckan.common import config

    from ckanext.sharing.dev import demo as demo_module

    click.echo(f"\nDemo portal: {config.get('ckan.site_url')}  (log in at /user/login)")
    click.echo(f"{'user':<18} {'password':<22} role")
    for login in demo_module.logins():
        where = f" ({login['organization']})" if login["organization"] else ""
        click.echo(f"{login['name']:<18} {login['password']:<22} {login['role']}{where}")


@sharing.command("solr-schema")
@click.argument("out", default="-")
@click.option("--source", default=None, help="CKAN schema.xml to derive from (default: the installed CKAN's).")
def solr_schema_cmd(out: str, source: str | None) -> None:
    """Write the CJK-aware Solr schema derived from CKAN's to OUT ('-' = stdout).

    After installing it in a core and reloading the core, run `ckan search-index rebuild`.
    """
    from ckanext.sharing.zh_search import solr_schema

    _run(lambda: solr_schema.sharing_write_schema(out, source), OSError, ValueError)
    _wrote(out, "CJK Solr schema")


@sharing.group()
def outbox() -> None:
    """The durable outbox: e-mails and other jobs queued by committed transactions (SPEC §8)."""


@outbox.command("list")
@click.option("--failed", is_flag=True, help="Only rows whose last attempt failed (retrying or given up).")
@click.option("--state", default=None, type=click.Choice(("pending", "retrying", "sent", "failed")))
@click.option("--limit", default=100, show_default=True)
def outbox_list(failed: bool, state: str | None, limit: int) -> None:
    """List outbox rows, newest first (tab separated): id, state, attempts, created, next attempt, job,
    arguments, last error; then the count per state."""
    from ckanext.sharing.workflow import outbox as box

    for row in box.rows(failed=failed, state=state, limit=limit):
        click.echo(box.line(row))
    click.echo(", ".join(f"{n} {s}" for s, n in box.counts().items()), err=True)


@outbox.command("deliver")
@click.option("--enqueue", is_flag=True, help="Hand the due rows to CKAN's queue for a worker instead.")
@click.option("--now", "ignore_backoff", is_flag=True, help="Also rows whose next attempt is not due yet.")
def outbox_deliver(enqueue: bool, ignore_backoff: bool) -> None:
    """Deliver every due row (after Redis or the mail server came back; run it from cron every few
    minutes). Exit 1 when a delivery failed (it stays due, see `outbox list --failed`)."""
    from ckanext.sharing.workflow import outbox as box

    if enqueue:
        click.echo(f"{len(box.enqueue_due())} row(s) enqueued")
        return
    done = box.deliver_due(ignore_backoff=ignore_backoff)
    click.echo(f"{done.sent} delivered, {done.failed} failed")
    if done.failed:
        raise click.exceptions.Exit(1)


@outbox.command("retry")
@click.argument("row_id")
def outbox_retry(row_id: str) -> None:
    """Make a failed row due again now (after fixing its cause)."""
    from ckanext.sharing.workflow import outbox as box

    if not box.retry(row_id):
        raise click.ClickException(f"no failed or retrying outbox row {row_id}")
    click.echo(f"row {row_id} is due again")


# imp (issue 15): ``ckan sharing catalogue import|export``, code in catalogue/transfer/cli.py
from ckanext.sharing.catalogue.transfer.cli import catalogue as _catalogue  # noqa: E402

sharing.add_command(_catalogue)


@sharing.group()
def retention() -> None:
    """Use records kept for ckanext.sharing.retention_years (Regulation Art. 29)."""


@retention.command("purge")
def retention_purge() -> None:
    """Delete use reports older than ckanext.sharing.retention_years (never younger ones: the database
    refuses that too). One ledger row when anything was deleted."""
    from ckanext.sharing import config
    from ckanext.sharing.workflow import use_reports

    count = use_reports.purge()
    click.echo(f"{count} use reports older than {config.retention_years()} years deleted")
