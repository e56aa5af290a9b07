"""Getting what happened out of the database: the outbox relay and its sinks, timers."""
