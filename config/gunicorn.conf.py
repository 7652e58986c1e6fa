"""gunicorn settings of the portal: ``bin/stack web`` passes this file with ``-c`` (so do the tests'
live portals, tests/live.py, which run ``bin/stack web``). Ports, pid and log files stay on the command line.

Why (issue 10, "Operators must see failures"): CKAN's loggers write to stderr (the logging sections of
config/ckan.ini and test.ini), and a ``--daemon`` gunicorn sends stderr to /dev/null, so a 500's traceback
was lost. ``capture_output`` points the workers' stdout/stderr at ``--error-logfile`` (.run/log/web.log).
"""
from __future__ import annotations

import logging
from typing import Any

# the app's stderr -- CKAN's log records, with the traceback of every 500 -- goes into --error-logfile
capture_output = True
# gunicorn's control socket is one fixed path per user (~/.gunicorn/gunicorn.ctl): the demo portal, the
# benchmark portals and the tests' live portals would take it from each other. Nothing here uses it.
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """Give gunicorn its loggers back once the worker has loaded CKAN.

    CKAN's config loader applies the ini's logging sections with ``logging.config.fileConfig``, which
    disables every logger the ini does not name: ``gunicorn.error`` and ``gunicorn.access`` inside the
    worker, so the access log stayed empty and gunicorn's own "Error handling request" tracebacks were lost.
    """
    for name in ("gunicorn.error", "gunicorn.access"):
        logging.getLogger(name).disabled = False
    worker.log.setup(worker.cfg)
