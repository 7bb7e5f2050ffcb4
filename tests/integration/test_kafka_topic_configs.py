"""Kafka's ingress topics stamp each record with the broker's append time (issue 13, item
3): so made by ``create_topics``, and given that config in place at every start when an
older version (or a hand) made them without it. Event time is then judged against the
log's own time, whatever a producer stamps: tests/integration/test_hostile_input.py shows
it on every pairing, a record stamped two days ahead by its producer among them."""

from __future__ import annotations

from typing import Any

from journey.bootstrap import Runtime
from tests.factories import unique
from tests.integration.drive import until


def test_ingress_topics_made_before_get_the_log_append_time_at_start(
    kafka_runtime: Runtime,
) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic

    runtime = kafka_runtime
    bootstrap = runtime.settings.kafka_bootstrap
    client = KafkaAdminClient(bootstrap_servers=bootstrap)
    key = "message.timestamp.type"

    def stamping(topics: list[str]) -> set[str]:
        """The topics' timestamp types, once the broker describes them (a topic just made
        may not, for a moment)."""
        held: dict[str, Any] = {}

        def described() -> bool:
            nonlocal held
            held = client.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, t, configs={key: None}) for t in topics],
                config_filter="all",
            ).get("topic", {})
            return all(key in held.get(t, {}) for t in topics)

        until(described, f"the broker describes {topics}")
        return {held[t][key]["value"] for t in topics}

    try:
        assert stamping(runtime.topics.ingress) == {"LogAppendTime"}, "made by create_topics"
        from adapters.topics import Topics

        topics = Topics(unique("old-") + ".", 1, retention_days=1)
        specs = topics.specs()
        old = [spec.name for spec in specs]
        client.create_topics([NewTopic(t, 1, 1) for t in old])  # as an older version made them
        admin = runtime.log.admin()
        try:
            changed = admin.align_configs(specs)
            assert sorted(changed) == sorted(old), "each differs at least in its retention"
            assert admin.align_configs(specs) == [], "aligned once, then nothing to do"
        finally:
            admin.close()
        assert stamping(topics.ingress) == {"LogAppendTime"}
        retained = client.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, t, configs={"retention.ms": None})
                for t in old
            ],
            config_filter="all",
        )["topic"]
        assert {retained[t]["retention.ms"]["value"] for t in old} == {str(topics.retention_ms)}
        client.delete_topics(old)
    finally:
        client.close()
