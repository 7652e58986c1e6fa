"""Tests of the DCAT-AP output (ckanext/sharing/dcat)."""
