"""Where events come from: each module here yields Auth0 log events for the stream to emit."""
