"""The ingress contract: the source-event envelope, one schema per event type, the catalogue."""
