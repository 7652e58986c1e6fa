# ckanext-sharing: every set-up step a user needs is one of these targets (see README.md).
SHELL := /bin/bash
STACK := bin/stack
VENV := .venv
PYTEST_ARGS ?=

# SOLR_MODE=cloud (README "SolrCloud"): a local SolrCloud instead of the single Solr node; the portal's own
# CKAN commands below then use its collection `ckan` (bin/stack sets the same for init, web and worker).
ifeq ($(SOLR_MODE),cloud)
export CKAN_SOLR_URL ?= http://127.0.0.1:$(or $(SOLR_CLOUD_PORT),8993)/solr/ckan
endif

.PHONY: run stop status deps services test test-core bench demo logs i18n

run: deps services  ## the demo portal on http://127.0.0.1:5000
	$(STACK) init
	$(VENV)/bin/ckan -c .run/ckan.ini sharing demo load
	$(STACK) worker
	$(STACK) web
	@$(VENV)/bin/ckan -c .run/ckan.ini sharing demo logins

deps:
	$(STACK) deps

services:
	$(STACK) start

stop:
	$(STACK) stop

status:
	$(STACK) status

test: deps services  ## the whole suite on a separate test database and Solr core
	@set -e; eval "$$($(STACK) test-env $(TEST_SLOT))"; \
	$(STACK) test-perms; \
	$(VENV)/bin/python -m pytest --ckan-ini=test.ini $(PYTEST_ARGS)

test-core: deps services  ## CKAN's own suites (ckan, activity, datastore): baseline vs with sharing, see README
	$(VENV)/bin/python tests/ckan_core.py $(CORE_ARGS) -- $(PYTEST_ARGS)

bench: deps services  ## plain CKAN vs CKAN + sharing, printed as a table
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)

i18n:  ## extract and compile the translations
	$(VENV)/bin/python setup.py -q extract_messages update_catalog compile_catalog

.PHONY: soak
soak: deps services  ## bounded soak of a live portal, printed as a table (not in `make test`); SOAK_SECONDS=60
	@set -e; eval "$$($(STACK) test-env $(or $(SOAK_SLOT),soak))"; \
	$(STACK) test-perms; \
	SHARING_SOAK=1 SOAK_SECONDS=$(or $(SOAK_SECONDS),60) $(VENV)/bin/python -m pytest --ckan-ini=test.ini -q -s \
	  tests/soak $(PYTEST_ARGS)
