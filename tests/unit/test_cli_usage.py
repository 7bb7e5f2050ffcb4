"""The ``journey`` command line as a user meets it: every command and argument explains
itself in ``--help``; a bad value is a usage error of one line and exit code 2, before any
settings are read or anything is built (issue 17, item 2)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from adapters.sourcelog.base import Coordinates
from journey.cli import data
from journey.cli.arguments import coordinates
from journey.cli.entry import main, parser


def subcommands(root: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the tree with its path, ``journey`` first."""
    yield root.prog, root
    for action in root._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from subcommands(child)


def test_every_command_and_argument_has_help() -> None:
    missing = []
    for prog, command in subcommands(parser()):
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                named = {a.dest for a in action._choices_actions}
                missing += [f"{prog} {n}" for n in action.choices if n not in named]
                missing += [f"{prog} {a.dest}" for a in action._choices_actions if not a.help]
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{prog} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_the_tree_is_walked_whole() -> None:
    progs = {prog for prog, _ in subcommands(parser())}
    assert {"journey deadletters replay", "journey keys revoke", "journey serve"} <= progs


def test_coordinates_are_topic_partition_offset() -> None:
    assert coordinates("journey.contacts:3:1207") == Coordinates("journey.contacts", 3, 1207)
    for bad in ("bogus", "t:x:1", "t:1:-1", ":1:2", "t:1"):
        with pytest.raises(argparse.ArgumentTypeError, match="topic:partition:offset"):
            coordinates(bad)


@pytest.mark.parametrize(
    "argv",
    [
        ["deadletters", "replay", "--source", "bogus"],
        ["deadletters", "list", "--limit", "many"],
        ["deadletters", "list", "--since", "2026-03-01T10:00"],
        ["serve", "--port", "70000"],
        ["keys", "create", "--role", "root"],
        ["erase"],
        ["nonsense"],
        [],
    ],
)
def test_a_bad_command_line_is_one_line_and_exit_code_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("journey: ")
    assert "--help" in line  # where to read how to call it


def test_bogus_source_names_the_argument_and_the_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deadletters", "replay", "--source", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "argument --source" in err
    assert "topic:partition:offset" in err
    assert "journey deadletters replay --help" in err


def test_the_data_commands_alone_refuse_the_same_way(capsys: pytest.CaptureFixture[str]) -> None:
    assert data.main(["simulate", "--customers", "0", "--days", "1", "--seed", "1"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("journey: argument --customers: must be at least 1")


def test_invalid_settings_are_one_line_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEY_PORT", "not-a-port")
    monkeypatch.setenv("JOURNEY_LOG_FORMAT", "xml")
    assert main(["status"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("journey: invalid settings: ")
    assert "JOURNEY_PORT" in line
    assert "JOURNEY_LOG_FORMAT" in line
