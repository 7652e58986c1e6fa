#!/bin/sh
# First start of the postgres container: CKAN's roles and databases (CKAN and DataStore).
# The DataStore table permissions are applied later by the ckan container (`ckan datastore set-permissions`).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE ckan_default LOGIN PASSWORD '${CKAN_DB_PASSWORD}';
CREATE ROLE datastore_default LOGIN PASSWORD '${DATASTORE_DB_PASSWORD}';
CREATE DATABASE ckan_default OWNER ckan_default ENCODING 'UTF8';
CREATE DATABASE datastore_default OWNER ckan_default ENCODING 'UTF8';
SQL
