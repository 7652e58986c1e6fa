#!/bin/sh
# ckanext-sharing container entry point.
#   web     (default) write production.ini from the environment, migrate, serve with gunicorn
#   worker  the RQ background worker (notifications, grant expiry)
#   any other command is run as is (e.g. `ckan -c /srv/app/production.ini sysadmin add admin`)
set -eu

write_ini() {
  [ -f "$CKAN_INI" ] && return 0
  : "${CKAN_SECRET_KEY:?set CKAN_SECRET_KEY}" "${CKAN_JWT_SECRET:?set CKAN_JWT_SECRET}"
  cat >"$CKAN_INI" <<INI
[app:main]
use = config:/srv/app/config/ckan.ini
SECRET_KEY = ${CKAN_SECRET_KEY}
api_token.jwt.encode.secret = string:${CKAN_JWT_SECRET}
api_token.jwt.decode.secret = string:${CKAN_JWT_SECRET}
ckan.site_url = ${CKAN_SITE_URL:-http://localhost:5000}
ckan.storage_path = ${CKAN_STORAGE_PATH}
smtp.server = ${CKAN_SMTP_SERVER:-localhost:25}
smtp.mail_from = ${CKAN_SMTP_MAIL_FROM:-noreply@localhost}
INI
}

wait_for() { # what url-or-cmd
  i=0
  until sh -c "$2" >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -le 60 ] || { echo "$1 not reachable" >&2; exit 1; }
    sleep 2
  done
}

write_ini
wait_for PostgreSQL "pg_isready -d '$CKAN_SQLALCHEMY_URL'"
wait_for Solr "curl -fsS '$CKAN_SOLR_URL/admin/ping'"

case "${1:-web}" in
  web)
    ckan -c "$CKAN_INI" db init
    ckan -c "$CKAN_INI" db upgrade -p sharing
    if [ -n "${DATASTORE_SUPERUSER_URL:-}" ]; then
      ckan -c "$CKAN_INI" datastore set-permissions | psql -q "$DATASTORE_SUPERUSER_URL"
    fi
    exec gunicorn --workers "${WEB_WORKERS:-4}" --bind 0.0.0.0:5000 --timeout 120 \
      --access-logfile - --error-logfile - ckanext.sharing.dev.wsgi:application
    ;;
  worker)
    exec ckan -c "$CKAN_INI" jobs worker
    ;;
  *)
    exec "$@"
    ;;
esac
