"""The government resource catalogue (政务信息资源目录, SPEC §6): plugin ``sharing_catalogue``."""
