"""The size limits every interface shares (the CLI, the API, the web and the importers).

Typed input over a limit is refused; an import cuts what is over it and reports what it
left out, so one hostile file cannot turn into millions of rows.
"""

from __future__ import annotations

MAX_PARTICIPANTS = 500  # people on one interaction (an email's recipients, a meeting's)
MAX_CONTACTS_PER_KIND = 50  # emails, phones, domains or URLs of one record
MAX_OCCURRENCES = 2_000  # interactions one recurring calendar event becomes
MAX_OCCURRENCES_PER_FILE = 50_000  # ... and all the recurring events of one calendar file
