"""Pages and fixes of the Chinese user interface (issue 11): what a browser needs that core gets wrong."""
