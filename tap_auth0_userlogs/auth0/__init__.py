"""The Management API client: one request paced, retried, authenticated and explained."""
