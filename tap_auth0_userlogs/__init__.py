"""Singer tap for Auth0 user log events."""
