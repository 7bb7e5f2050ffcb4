"""Adapters: the source logs (embedded, Kafka), publishing and topics, the read store,
per-customer keys, API keys and the access log, metrics, log lines, transcoding."""
