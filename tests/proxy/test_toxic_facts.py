"""A toxic's facts live in its class: a new toxic is one file, and nothing else can drift.

The scenario schema, the fault shorthand, labels, the game day vocabulary,
the client's list of extensions and the server API all read the toxic
classes, so a toxic defined in one place (here: inside a test) is known to
every one of them, and what a scenario accepts is what the server takes.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Iterator

import pytest
import requests
from pydantic import ValidationError

from harness.commands.schema import schema_for
from harness.faults.shorthand import fault_entry, main_attribute, shorthand_toxics
from harness.gameday import grammar
from harness.proxy.server import ServerOptions, ThreadedProxyServer
from harness.proxy.toxic_chain import ToxicChain
from harness.proxy.toxics import TOXIC_TYPES, Chunk, Stub, Toxic, attribute, extension_toxics, toxic_types
from harness.proxy.toxics.facts import unregister
from harness.scenario.model import FaultEntry
from harness.scenario.toxics import attribute_units, toxic_attributes, toxic_names

from .conftest import add_toxic, connect, make_proxy, recv_exactly

# ---------------------------------------------------------------- a toxic of the test's own


@pytest.fixture
def shout() -> Iterator[type[Toxic]]:
    """A new toxic, defined the way a new module in harness/proxy/toxics/ defines one."""

    @dataclasses.dataclass(frozen=True)
    class ShoutToxic(Toxic):
        """test_shout: upper-cases what passes, after `delay` ms, and appends `suffix`."""

        type_name = "test_shout"
        delay: int = attribute(0, unit="ms", required=True, main=True)
        suffix: str = attribute("", kind="text")

        async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
            assert chunk.data is not None
            if self.delay:
                await stub.sleep(self.delay / 1000)
            stub.send(Chunk(chunk.data.upper() + self.suffix.encode(), chunk.ts))

    yield ShoutToxic
    unregister("test_shout")


@pytest.fixture
def tag() -> Iterator[type[Toxic]]:
    """A new chaosdrill extension that reads requests, so it runs upstream only."""

    @dataclasses.dataclass(frozen=True)
    class TagToxic(Toxic):
        type_name = "test_tag"
        extension = True
        streams = ("upstream",)
        streams_reason = "tags requests"

    yield TagToxic
    unregister("test_tag")


def _problem(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        FaultEntry.model_validate(data)
    return info.value.errors()[0]["msg"]


def test_a_new_toxic_is_registered_by_defining_it(shout):
    assert TOXIC_TYPES["test_shout"] is shout
    assert shout in toxic_types()
    names = toxic_names()
    assert names.index("test_shout") < names.index("down")  # Toxiproxy-like toxics come before down
    assert "test_shout" not in extension_toxics()


def test_scenarios_accept_a_new_toxic_in_its_units(shout):
    entry = FaultEntry.model_validate({"link": "a->b", "toxic": "test_shout", "attributes": {"delay": "1.5s", "suffix": "!"}})
    assert (entry.toxic, entry.attributes, entry.stream) == ("test_shout", {"delay": 1500, "suffix": "!"}, "downstream")
    assert "toxic 'test_shout' needs attribute(s): delay" in _problem({"link": "a->b", "toxic": "test_shout"})
    assert "unknown attribute 'dely' for toxic 'test_shout' (did you mean 'delay'?); allowed: delay, suffix" in _problem(
        {"link": "a->b", "toxic": "test_shout", "attributes": {"delay": 1, "dely": 2}})
    assert attribute_units("test_shout") == {"delay": "ms"}
    enum = schema_for("scenario")["$defs"]["FaultEntry"]["properties"]["toxic"]["anyOf"][0]["enum"]
    assert enum == list(toxic_names()) and "test_shout" in enum


def test_the_shorthand_and_the_console_vocabulary_know_a_new_toxic(shout):
    entry = fault_entry("a->b", test_shout="20ms", suffix="!")
    assert (entry.toxic, entry.attributes) == ("test_shout", {"delay": 20, "suffix": "!"})
    assert main_attribute("test_shout") == "delay"
    assert "test_shout" in shorthand_toxics()
    assert grammar.toxic_attributes()["test_shout"] == ("delay", "suffix")


def test_the_server_api_runs_a_new_toxic(shout, echo_upstream):
    with ThreadedProxyServer(ServerOptions(port=0)) as server:
        _, port = make_proxy(server.url, "p", echo_upstream)
        toxic = add_toxic(server.url, "p", type="test_shout", attributes={"delay": 1, "suffix": "!"})
        assert (toxic["name"], toxic["stream"], toxic["attributes"]) == (
            "test_shout_downstream", "downstream", {"delay": 1, "suffix": "!"})
        sock = connect(port)
        sock.sendall(b"ping")
        assert recv_exactly(sock, 5) == b"PING!"
        sock.close()
        r = requests.post(f"{server.url}/proxies/p/toxics", json={"type": "test_shout", "name": "t2",
                                                                   "attributes": {"delay": -1}}, timeout=5)
        assert (r.status_code, r.json()["error"]) == (400, "bad request body: attribute delay must not be negative, got -1")


def test_a_new_extension_is_listed_last_refused_downstream_and_defaults_upstream(tag):
    assert "test_tag" in extension_toxics()
    names = toxic_names()
    assert names.index("down") < names.index("http_error") < names.index("test_tag")
    entry = FaultEntry.model_validate({"link": "a->b", "toxic": "test_tag"})
    assert entry.stream == "upstream"
    assert _problem({"link": "a->b", "toxic": "test_tag", "stream": "downstream"}).endswith(
        "test_tag tags requests, so it runs on the upstream stream only")
    assert "toxic 'test_tag' takes no attributes" in _problem({"link": "a->b", "toxic": "test_tag", "attributes": {"x": 1}})
    assert fault_entry("a->b", test_tag=True).toxic == "test_tag"
    assert ToxicChain().parse_new({"type": "test_tag"}).stream == "upstream"


# ---------------------------------------------------------------- every toxic: one set of facts

# A value of each kind as a scenario may write it.
SAMPLE = {"ms": "3ms", "us": "3ms", "count": 3, "status": 418, "text": "GET", "headers": {"X-Test": "1"}}
PYTHON_TYPE = {"ms": int, "us": int, "count": int, "status": int, "text": str, "headers": tuple}


@pytest.mark.parametrize("name", sorted(TOXIC_TYPES))
def test_what_everything_else_says_of_a_toxic_is_what_its_class_states(name):
    cls = TOXIC_TYPES[name]
    facts = {a.name: a for a in cls.attribute_facts()}
    hints = typing.get_type_hints(cls)
    assert list(facts) == [f.name for f in dataclasses.fields(cls)]
    for attr in facts.values():  # the JSON type the server decodes fits the kind the scenario checks
        assert (typing.get_origin(hints[attr.name]) or hints[attr.name]) is PYTHON_TYPE[attr.kind], attr
    assert toxic_attributes(name) == facts
    assert attribute_units(name) == {n: a.unit for n, a in facts.items() if a.unit}
    assert main_attribute(name) == next((n for n, a in facts.items() if a.main), None)
    assert grammar.TOXICS[name] == tuple(facts)
    assert (name in extension_toxics()) is cls.extension
    # a scenario fault with every attribute converts to values the server takes as they are
    entry = FaultEntry.model_validate({"link": "a->b", "toxic": name,
                                       "attributes": {n: SAMPLE[a.kind] for n, a in facts.items()}})
    assert entry.stream == cls.default_stream()
    assert cls.from_attributes(entry.attributes).to_attributes() == entry.attributes
    for attr in facts.values():  # a scenario may leave out exactly the attributes not required
        others = {n: SAMPLE[a.kind] for n, a in facts.items() if n != attr.name}
        data = {"link": "a->b", "toxic": name, "attributes": others}
        if attr.required:
            assert f"toxic '{name}' needs attribute(s): {attr.name}" in _problem(data)
        else:
            FaultEntry.model_validate(data)


# The facts of the built-in toxics as the scenario schema, the shorthand and the
# client kept them before the classes stated them: (kind, unit, required, main).
BUILTIN = {
    "latency": {"latency": ("ms", "ms", True, True), "jitter": ("ms", "ms", False, False)},
    "bandwidth": {"rate": ("count", "KB/s", True, True)},
    "slow_close": {"delay": ("ms", "ms", True, True)},
    "timeout": {"timeout": ("ms", "ms", False, True)},
    "reset_peer": {"timeout": ("ms", "ms", False, True)},
    "slicer": {"average_size": ("count", "B", True, True), "size_variation": ("count", "B", False, False),
               "delay": ("us", "us", False, False)},
    "limit_data": {"bytes": ("count", "B", True, True)},
    "noop": {},
    "http_error": {"status": ("status", "", False, True), "body": ("text", "", False, False),
                   "headers": ("headers", "", False, False), "method": ("text", "", False, False),
                   "path": ("text", "", False, False)},
    "http_latency": {"latency": ("ms", "ms", True, True), "jitter": ("ms", "ms", False, False),
                     "method": ("text", "", False, False), "path": ("text", "", False, False)},
}
SCENARIO_ORDER = ["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "noop",
                  "down", "http_error", "http_latency"]


def test_the_builtin_toxics_state_what_was_kept_by_hand_before():
    for name, expected in BUILTIN.items():
        facts = {a.name: (a.kind, a.unit, a.required, a.main) for a in TOXIC_TYPES[name].attribute_facts()}
        assert facts == expected, name
    assert {n for n in extension_toxics() if n in BUILTIN} == {"http_error", "http_latency"}
    assert [n for n in toxic_names() if n in SCENARIO_ORDER] == SCENARIO_ORDER
    assert [n for n in shorthand_toxics() if n in BUILTIN] == [
        "latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "http_error",
        "http_latency", "noop"]
    help_line, _, listed = grammar.HELP["toxic"].partition(": ")
    assert help_line == "TOXIC LINK [VALUE] [attr=value ...]"
    assert [n for n in listed.split(", ") if n in BUILTIN] == [n for n in SCENARIO_ORDER if n not in ("noop", "down")]
