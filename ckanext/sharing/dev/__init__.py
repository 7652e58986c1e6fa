"""Development-only code: the demo catalogue loader, the conformance world of ``ckan sharing check-access``
and the gunicorn entry point. Nothing of the runtime (plugins, actions, views) imports it."""
