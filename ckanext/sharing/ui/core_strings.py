"""Core CKAN strings the portal shows whose zh_Hans_CN translation is missing or wrong (issue 11).

Listed here only so ``make i18n`` extracts them into OUR catalogue (``ckanext-sharing``), which CKAN's
``ITranslation`` merges over core's: our translation wins (``tests/ui/test_zh_translations.py``).
Nothing imports this module at run time.
"""
from __future__ import annotations


def _(message: str) -> str:
    """A marker for the extractor; returns the message unchanged."""
    return message


def ngettext(singular: str, plural: str, num: int) -> str:
    """A marker for the extractor of plural messages; returns the singular unchanged."""
    return singular


CORE_MESSAGES = (
    # missing in core's zh_Hans_CN
    _("Username or Email"),
    _("Profile settings"),
    _("View dashboard"),
    _("Account"),
    _("Toggle navigation"),
    _("Search Datasets..."),
    _("Submit"),
    _("Skip to main content"),
    _("Breadcrumb"),
    _("Publish"),
    _("Unpublish"),
    _("Data last updated"),
    _("Metadata last updated"),
    _("Dataset description:"),
    _("Current resource: {name}"),
    _("Resource URL: {url}"),
    _("Navigate to resource: {name_or_id}"),
    _("Navigate to Home - {site_title}"),
    _("Fullscreen"),
    _("Embed"),
    _("Close modal"),
    _("Close"),
    _("Profile picture"),
    _("Profile picture URL"),
    _("User isn't a member of any groups."),
    _("User isn't a member of any organizations."),
    _("Access resource data via a web API with powerful query support."),
    _("Code examples:"),
    _("Get 5 results containing \"jones\" in any field:"),
    _("SQL query example:"),
    _("Using the API with this Web Browser"),
    _("Some API endpoints may be accessed using a GET query string."),
    _("Data Dictionary"),
    _("Type"),
    _("Label"),
    _("Login failed. Bad username or password or CAPTCHA."),
    _("Dataset not found or you have no permission to view it"),
    _("CKAN Association"),
    _("Show more"),
    _("News feed"),
    # ckanext-scheming's repeating fields (信息项) after 移除
    _("These fields have been removed."),
    _("These fields have been removed, click update below to save your changes."),
    # dataset states, shown to editors as core's additional info (``_(pkg_dict.state)``)
    _("active"),
    _("draft"),
    _("deleted"),
    ngettext("{num} Member", "{num} Members", 1),
    _("<strong>Powered by</strong> <a class=\"hide-text ckan-footer-logo\" href=\"http://ckan.org\">CKAN</a>"),
    # wrong in core's zh_Hans_CN
    _("Log in"),
    _("Login"),
    _("Followers"),
    _("Social"),
    _("Value"),
    _("Field"),
    _("Welcome to CKAN"),
    _("You're already logged in as {user}."),
    _("You're already logged in"),
    _("Access denied"),
)
