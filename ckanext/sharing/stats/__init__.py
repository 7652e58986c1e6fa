"""Statistics of use (issue 17, SPEC §13): SQL aggregations, a per-day cache, the three statistics pages."""
