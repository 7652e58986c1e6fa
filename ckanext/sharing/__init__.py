"""ckanext-sharing: government data-sharing tiers, requests, grants and audit for CKAN."""
