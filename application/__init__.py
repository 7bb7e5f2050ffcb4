"""The application layer: source events in, aggregate events out; audit, explain, erasure,
consistency waits, rebuilds and status."""
