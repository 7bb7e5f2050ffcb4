"""The source log keeps records for a bounded retention, one setting for both logs
(``JOURNEY_LOG_RETENTION_DAYS``, default Kafka's own seven days): Kafka topics are created
with it, the embedded log deletes what is older."""

from __future__ import annotations

import os
from unittest.mock import patch

from adapters.sourcelog.embedded import EmbeddedLog
from adapters.topics import DAY_MS, RETENTION_DAYS
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.integration.drive import until


def test_the_topics_keep_records_for_the_retention_setting(runtime: Runtime) -> None:
    assert RETENTION_DAYS == 7  # Kafka's default, log.retention.hours=168
    expected = 7 * DAY_MS
    if isinstance(runtime.log, EmbeddedLog):
        assert runtime.log.retention_ms == expected
        return
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    names = [spec.name for spec in runtime.topics.specs()]
    client = KafkaAdminClient(bootstrap_servers=runtime.settings.kafka_bootstrap)
    got: dict[str, str] = {}

    def described() -> bool:
        """Until the broker shows every new topic's own configuration."""
        answer = client.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
        got.clear()
        for name, configs in answer["topic"].items():
            if "retention.ms" in configs:
                got[name] = configs["retention.ms"]["value"]
        return len(got) == len(names)

    try:
        until(described, "the broker shows the topics' retention.ms", timeout_s=30)
    finally:
        client.close()
    assert got == dict.fromkeys(names, str(expected))


def test_the_embedded_log_takes_its_retention_from_the_setting(
    settings_env: dict[str, str],
) -> None:
    with patch.dict(os.environ, {**settings_env, "JOURNEY_LOG_RETENTION_DAYS": "0.5"}):
        runtime = build(Settings())
    try:
        assert isinstance(runtime.log, EmbeddedLog)
        assert runtime.log.retention_ms == DAY_MS // 2
        retained = {dict(spec.configs)["retention.ms"] for spec in runtime.topics.specs()}
        assert retained == {str(DAY_MS // 2)}
    finally:
        runtime.close()
