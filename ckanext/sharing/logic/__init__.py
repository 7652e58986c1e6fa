"""CKAN logic of ckanext-sharing: actions, auth functions, input schemas and the tier validators."""
