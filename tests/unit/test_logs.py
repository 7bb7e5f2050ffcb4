"""Log lines: one JSON object per line with the request id of the context, or text."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.logformat import (
    bind_request_id,
    choose_format,
    configure_logging,
    current_request_id,
    unbind_request_id,
)
from adapters.sourcelog.base import TopicPartition, describe_partitions
from journey.settings import Settings

log = logging.getLogger("tests.logs")


class Output:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def text(self) -> str:
        return self.stream.getvalue()

    def json(self) -> list[dict[str, Any]]:
        # Lines end at "\n" alone, as a log shipper splits them (U+0085, U+2028 may be in one).
        return [orjson.loads(line) for line in self.text().split("\n") if line]


@pytest.fixture
def output() -> Iterator[Output]:
    out = Output()
    handler = configure_logging("json", stream=out.stream)
    yield out
    logging.getLogger().removeHandler(handler)


def test_a_line_is_one_json_object_with_the_agreed_fields(output: Output) -> None:
    log.warning("disk at %d%%", 91)
    (line,) = output.json()
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.logs"
    assert line["msg"] == "disk at 91%"
    assert line["request_id"] is None
    assert line["ts"].endswith("+00:00")


def test_lines_written_in_a_request_carry_its_id_and_others_do_not(output: Output) -> None:
    token = bind_request_id("req-7")
    try:
        log.info("inside")
        assert current_request_id() == "req-7"
    finally:
        unbind_request_id(token)
    log.info("outside")
    assert [(line["msg"], line["request_id"]) for line in output.json()] == [
        ("inside", "req-7"),
        ("outside", None),
    ]


def test_a_thread_run_with_the_request_context_carries_its_id(output: Output) -> None:
    token = bind_request_id("req-thread")
    try:
        context = copy_context()
        with ThreadPoolExecutor(1) as pool:
            pool.submit(context.run, log.info, "in a thread").result()
    finally:
        unbind_request_id(token)
    assert output.json()[0]["request_id"] == "req-thread"


def test_extra_fields_become_fields_and_exceptions_a_traceback(output: Output) -> None:
    try:
        raise KeyError("k")
    except KeyError:
        log.exception("failed", extra={"route": "/v1/x/{id}", "status": 500})
    (line,) = output.json()
    assert (line["route"], line["status"]) == ("/v1/x/{id}", 500)
    assert "Traceback" in line["exc"]
    assert "KeyError" in line["exc"]


@given(st.text(), st.text(max_size=64))
def test_any_message_is_one_line_of_valid_json(message: str, request_id: str) -> None:
    out = Output()
    handler = configure_logging("json", stream=out.stream)
    token = bind_request_id(request_id)
    try:
        log.info(message)
    finally:
        unbind_request_id(token)
        logging.getLogger().removeHandler(handler)
    (line,) = out.json()
    assert (line["msg"], line["request_id"]) == (message, request_id)


def test_text_lines_carry_the_request_id_and_access_fields() -> None:
    out = Output()
    handler = configure_logging("text", stream=out.stream)
    token = bind_request_id("req-text")
    try:
        logging.getLogger("journey.access").info(
            "GET /x 200", extra={"method": "GET", "route": "/x", "status": 200}
        )
    finally:
        unbind_request_id(token)
        logging.getLogger().removeHandler(handler)
    text = out.text()
    assert "INFO journey.access GET /x 200 request_id=req-text" in text
    assert "method=GET route=/x status=200" in text


def test_configuring_again_replaces_our_handler_and_leaves_others() -> None:
    root = logging.getLogger()
    others = [h for h in root.handlers if not getattr(h, "_journey", False)]
    first = configure_logging("json", stream=io.StringIO())
    second = configure_logging("text", stream=io.StringIO())
    try:
        assert first not in root.handlers
        assert second in root.handlers
        assert [h for h in root.handlers if not getattr(h, "_journey", False)] == others
        assert logging.getLogger("uvicorn.access").disabled
    finally:
        root.removeHandler(second)


def test_kafka_client_debug_lines_stay_off_even_at_debug() -> None:
    """kafka-python's DEBUG lines print record values (personal data of channels' records):
    whatever JOURNEY_LOG_LEVEL says, the ``kafka`` loggers write warnings and worse only."""
    stream = io.StringIO()
    root_level = logging.getLogger().level
    handler = configure_logging("json", "DEBUG", stream)
    try:
        logging.getLogger("kafka.producer.kafka").debug("Sending (key=b'c-1', value=b'Li Wei')")
        logging.getLogger("journey.test").debug("ours at debug")
        lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
        assert [line["msg"] for line in lines] == ["ours at debug"]
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)


def test_the_http_client_s_line_per_request_stays_off() -> None:
    """``--url`` posts a batch per request: httpx would log each at INFO beside our own
    progress line (seen in a ``simulate --url`` run); warnings and worse only."""
    stream = io.StringIO()
    root_level = logging.getLogger().level
    handler = configure_logging("json", "INFO", stream)
    try:
        logging.getLogger("httpx").info('HTTP Request: POST http://h/v1/events "202 Accepted"')
        logging.getLogger("httpx").warning("retrying")
        lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
        assert [line["msg"] for line in lines] == ["retrying"]
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)


# -- the format chosen, the fields shown (issue 17, item 4) ----------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    assert choose_format("auto", Terminal()) == "text"
    assert choose_format("auto", io.StringIO()) == "json"
    closed = io.StringIO()
    closed.close()
    assert choose_format("auto", closed) == "json"
    assert choose_format("json", Terminal()) == "json"
    assert choose_format("text", io.StringIO()) == "text"


def test_the_setting_defaults_to_auto_and_refuses_other_formats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JOURNEY_LOG_FORMAT", raising=False)
    assert Settings().log_format == "auto"
    monkeypatch.setenv("JOURNEY_LOG_FORMAT", "text")
    assert Settings().log_format == "text"
    monkeypatch.setenv("JOURNEY_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        Settings()


def test_text_lines_carry_every_field_a_caller_passed() -> None:
    out = Output()
    handler = configure_logging("text", stream=out.stream)
    try:
        log.warning(
            "dead-lettered %s",
            "journey.contacts:0:7",
            extra={"source": "journey.contacts:0:7", "reason": "data.consents: required", "n": 3},
        )
    finally:
        logging.getLogger().removeHandler(handler)
    (line,) = out.text().splitlines()
    assert line.endswith(
        "WARNING tests.logs dead-lettered journey.contacts:0:7 source=journey.contacts:0:7"
        ' reason="data.consents: required" n=3'
    )


def test_partitions_are_summarised_by_topic_with_runs() -> None:
    partitions = [TopicPartition("journey.contacts", n) for n in (5, 0, 1, 2, 3, 4)]
    partitions += [TopicPartition("journey.orders", n) for n in (0, 1, 2, 4, 7, 8)]
    assert describe_partitions(partitions) == "journey.contacts[0-5], journey.orders[0-2,4,7-8]"
    assert describe_partitions([]) == ""
