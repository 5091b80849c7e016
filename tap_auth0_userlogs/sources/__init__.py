"""Where events come from: each module here reads users or log events from the tenant."""
