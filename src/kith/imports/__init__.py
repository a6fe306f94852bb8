"""Import and export: contacts (CSV, Excel, vCard, JSON), calendars and mailboxes."""
