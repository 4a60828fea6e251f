"""The staff side, in the Django admin: tickets, accounts, API keys, deliveries.

Importing this package registers every ModelAdmin with the default admin site.
"""

from . import accounts, deliveries, keys, tickets  # noqa: F401  (they register themselves)
