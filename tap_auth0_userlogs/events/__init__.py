"""What an Auth0 log event is, as data: its fields, dates, log_ids, decoded pages, type codes."""
