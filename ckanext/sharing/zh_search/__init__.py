"""Chinese search (SPEC §6; issue 6): plugin ``sharing_zh_search`` and the CJK Solr schema generator."""
