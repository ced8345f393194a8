"""The game day command line: what an operator may type, and completion.

Commands are parsed into small dataclasses before anything happens, so a
typo is refused with one line naming the word at fault and never half-applies
a fault. Fault arguments go through `harness.faults.shorthand.fault_entry`, the
same keyword form the pytest fixture takes, so `latency a->b 800ms
jitter=200ms` means exactly what `fault("a->b", latency="800ms",
jitter="200ms")` means there.

Completion works on the last word of the line against a `Vocabulary` (the
running stack's links, services, active fault ids, a loaded scenario's
phases), so it never offers a name that does not exist.
"""

from __future__ import annotations

import glob
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from harness.errors import UsageError

PROCESS_ACTIONS = ("kill", "pause", "restart")
STREAMS = ("downstream", "upstream")
_EXPECTATION = re.compile(r"([A-Za-z_][\w.]*)\s*(<=|>=|==|!=|<|>)\s*([^\s<>=!]+)")


def toxic_attributes() -> dict[str, tuple[str, ...]]:
    """Every toxic a scenario may name (but `down`, a word of its own), with its attributes.

    Read from the scenario schema, so the console offers and accepts exactly
    what a scenario file does, and a game day replays as a valid scenario.
    """
    from harness.scenario.toxics import DOWN, toxic_attributes, toxic_names

    return {name: tuple(toxic_attributes(name)) for name in toxic_names() if name != DOWN}


TOXICS = toxic_attributes()
FAULT_WORDS = ("down", *TOXICS, *PROCESS_ACTIONS)
COMMAND_WORDS = (*FAULT_WORDS, "clear", "users", "note", "finding", "action", "hypothesis", "run", "phase", "help",
                 "quit")
_OWNER = re.compile(r"(?:^|\s)@(\S+)$")  # `action TEXT @owner`: the owner is the last word, after an @

HELP = {
    "latency": "latency LINK|SERVICE 800ms [jitter=200ms] [stream=upstream] [toxicity=0.5]",
    "down": "down LINK|SERVICE            (SERVICE: every link into it)",
    "kill": "kill SERVICE[#N]             (restarted when cleared)",
    "pause": "pause SERVICE[#N]            (SIGSTOP until cleared)",
    "restart": "restart SERVICE[#N]",
    "toxic": "TOXIC LINK [VALUE] [attr=value ...]: " + ", ".join(t for t in TOXICS if t != "noop"),
    "clear": "clear FAULT_ID|all",
    "users": "users N [SPAWN_RATE]",
    "note": "note TEXT",
    "finding": "finding TEXT                 (a conclusion of the game day, for the postmortem)",
    "action": "action TEXT [@OWNER]         (an action item; @OWNER at the end says who owns it)",
    "hypothesis": "hypothesis start NAME expect error_rate<1% p99_ms<300 | hypothesis end",
    "run": "run SCENARIO_FILE|DRILL      (its phases now, in order; DRILL: scenarios/DRILL.yaml)",
    "phase": "phase NAME|next|stop",
    "quit": "quit                         (remove every fault, stop, write the report)",
}


# ---------------------------------------------------------------- commands


@dataclass
class FaultCommand:
    """One fault word on one or more targets (a service name expands to its inbound links)."""

    word: str
    target: str
    entries: list[Any]  # scenario-like fault entries (see harness.faults.shorthand.fault_entry)


@dataclass
class ClearCommand:
    fault_id: str  # or "all"


@dataclass
class UsersCommand:
    users: int
    spawn_rate: float | None = None


@dataclass
class NoteCommand:
    text: str


@dataclass
class FindingCommand:
    """A conclusion, typed when the team reaches it, so the postmortem keeps it in its own words."""

    text: str


@dataclass
class ActionCommand:
    """An action item; without an owner it is listed as unassigned, which a debrief should notice."""

    text: str
    owner: str | None = None


@dataclass
class HypothesisStart:
    name: str
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass
class HypothesisEnd:
    pass


@dataclass
class RunCommand:
    path: str


@dataclass
class PhaseCommand:
    name: str  # a phase of the loaded scenario, "next" or "stop"


@dataclass
class HelpCommand:
    topic: str | None = None


@dataclass
class QuitCommand:
    pass


Command = (FaultCommand | ClearCommand | UsersCommand | NoteCommand | FindingCommand | ActionCommand
           | HypothesisStart | HypothesisEnd | RunCommand | PhaseCommand | HelpCommand | QuitCommand)


@dataclass
class Vocabulary:
    """Names the running game day knows; the parser checks against them, completion offers them."""

    links: dict[str, str] = field(default_factory=dict)  # link name -> target service
    services: dict[str, int] = field(default_factory=dict)  # service -> instance count
    fault_ids: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)

    def links_into(self, service: str) -> list[str]:
        return [name for name, target in self.links.items() if target == service]


# ---------------------------------------------------------------- parsing


def parse(line: str, vocab: Vocabulary) -> Command | None:
    """A command from one typed line; None for a blank line. Raises UsageError."""
    text = line.strip()
    if not text:
        return None
    word, _, rest = text.partition(" ")
    word = word.lower()
    rest = rest.strip()
    if word in _FREE_TEXT:
        return _free_text(word, rest)
    try:
        args = shlex.split(rest)
    except ValueError as exc:
        raise UsageError(f"{word}: {exc}") from None
    if word in FAULT_WORDS:
        return _fault(word, args, vocab)
    if word == "clear":
        if len(args) != 1:
            raise UsageError("clear: name one fault id or 'all', e.g. clear g1")
        if args[0] != "all" and args[0] not in vocab.fault_ids:
            known = ", ".join(vocab.fault_ids) or "none active"
            raise UsageError(f"clear: no active fault {args[0]!r} (active: {known})")
        return ClearCommand(args[0])
    if word == "users":
        return _users(args)
    if word == "hypothesis":
        return _hypothesis(args)
    if word == "run":
        if len(args) != 1:
            raise UsageError("run: name one scenario file, e.g. run scenarios/credit-bureau-outage.yaml")
        return RunCommand(args[0])
    if word == "phase":
        if len(args) != 1:
            raise UsageError("phase: name a phase of the loaded scenario, 'next' or 'stop'")
        if args[0] not in ("next", "stop") and args[0] not in vocab.phases:
            known = ", ".join(vocab.phases) or "none: load a scenario with 'run FILE' first"
            raise UsageError(f"phase: no phase {args[0]!r} (phases: {known})")
        return PhaseCommand(args[0])
    if word in ("help", "?"):
        return HelpCommand(args[0] if args else None)
    if word in ("quit", "exit"):
        return QuitCommand()
    raise UsageError(f"unknown command {word!r}; commands: {', '.join(c for c in COMMAND_WORDS if c != 'noop')}")


_FREE_TEXT = {"note": "paged on-call", "finding": "the bureau breaker opened within 2 s",
              "action": "alert on degraded answers @sam"}


def _free_text(word: str, rest: str) -> NoteCommand | FindingCommand | ActionCommand:
    """The rest of the line as typed (quotes, commas and all): no shell-style splitting for prose."""
    owner = None
    if word == "action" and (m := _OWNER.search(rest)):
        owner, rest = m.group(1), rest[:m.start()].strip()
    if not rest:
        where = "before the owner" if owner else f"after '{word}'"
        raise UsageError(f"{word}: write the text {where}, e.g. {word} {_FREE_TEXT[word]}")
    if word == "note":
        return NoteCommand(rest)
    return FindingCommand(rest) if word == "finding" else ActionCommand(rest, owner)


def _value(text: str) -> Any:
    """Numbers as numbers (the proxy's API is typed); durations stay text for fault_entry."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d*\.\d+", text):
        return float(text)
    return text


def _fault(word: str, args: list[str], vocab: Vocabulary) -> FaultCommand:
    from harness.faults.shorthand import fault_entry

    if not args:
        raise UsageError(f"{word}: name a {'service' if word in PROCESS_ACTIONS else 'link or service'}")
    target, rest = args[0], args[1:]
    if word in PROCESS_ACTIONS:
        if rest:
            raise UsageError(f"{word}: takes only SERVICE[#N], got extra {' '.join(rest)!r}")
        service, _, index = target.partition("#")
        if service not in vocab.services:
            raise UsageError(f"{word}: unknown service {service!r}; services: {', '.join(vocab.services)}")
        if index and (not index.isdigit() or int(index) >= vocab.services[service]):
            raise UsageError(f"{word}: {service} has {vocab.services[service]} instance(s); no #{index}")
        entry = fault_entry(target, **{word: True})
        return FaultCommand(word, target, [_validated(word, {"service": entry.service, "instance": entry.instance,
                                                             "action": entry.action})])
    links = _links_for(word, target, vocab)
    kwargs: dict[str, Any] = {}
    main: Any = True
    for arg in rest:
        key, sep, value = arg.partition("=")
        if not sep:
            if main is not True:
                raise UsageError(f"{word}: one main value only, got {arg!r} too; use attr=value")
            main = _value(arg)
            continue
        kwargs[key] = _value(value)
    if word == "down":
        if main is not True or kwargs:
            raise UsageError("down: takes only LINK|SERVICE")
        return FaultCommand(word, target, [_validated(word, {"link": link, "toxic": "down"}) for link in links])
    explicit_stream = "stream" in kwargs
    try:
        entries = [fault_entry(link, **{word: main}, **kwargs) for link in links]
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{word}: {exc}") from None
    raw = {**kwargs, **({_main_attribute(word): main} if main is not True else {})}
    return FaultCommand(word, target, [checked_link_fault(word, entry, raw, explicit_stream) for entry in entries])


def checked_link_fault(word: str, entry: Any, raw: dict[str, Any], explicit_stream: bool) -> Any:
    """The entry validated by the scenario schema (units converted, HTTP toxics upstream).

    Attribute values go to the schema as typed, so each is read in its own
    unit (slicer's delay is in microseconds, not milliseconds).
    """
    attributes = {key: raw.get(key, value) for key, value in entry.attributes.items()}
    data = {"link": entry.link, "toxic": entry.toxic, "attributes": attributes, "toxicity": entry.toxicity}
    if explicit_stream:
        data["stream"] = entry.stream
    return _validated(word, data)


def _validated(word: str, data: dict[str, Any]) -> Any:
    from harness.scenario import FaultEntry

    return _schema_checked(FaultEntry, data, word)


def _schema_checked(model: Any, data: dict[str, Any], where: str) -> Any:
    """`model` validated from `data`; a UsageError naming `where` and the first bad field otherwise."""
    from pydantic import ValidationError

    from harness.schema.errors import first_problem

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"{where}: {first_problem(exc, model)}") from None


def _links_for(word: str, target: str, vocab: Vocabulary) -> list[str]:
    if target in vocab.links:
        return [target]
    inbound = vocab.links_into(target)
    if inbound:
        return inbound
    raise UsageError(f"{word}: unknown link or service {target!r}; links: {', '.join(vocab.links)}")


def _users(args: list[str]) -> UsersCommand:
    if not 1 <= len(args) <= 2 or not args[0].isdigit():
        raise UsageError("users: users N [SPAWN_RATE], e.g. users 50 10")
    rate = None
    if len(args) == 2:
        try:
            rate = float(args[1])
        except ValueError:
            raise UsageError(f"users: spawn rate must be a number, got {args[1]!r}") from None
        if rate <= 0:
            raise UsageError("users: spawn rate must be above 0")
    return UsersCommand(int(args[0]), rate)


def _hypothesis(args: list[str]) -> HypothesisStart | HypothesisEnd:
    if args[:1] == ["end"] and len(args) == 1:
        return HypothesisEnd()
    if args[:1] != ["start"] or len(args) < 2:
        raise UsageError("hypothesis: 'hypothesis start NAME expect error_rate<1% p99_ms<300' or 'hypothesis end'")
    name = args[1]
    rest = args[2:]
    if rest and rest[0] == "expect":
        rest = rest[1:]
    elif rest:
        raise UsageError(f"hypothesis start {name}: write 'expect' before the expectations")
    expect = parse_expectations(" ".join(rest))
    if not expect:
        raise UsageError(f"hypothesis start {name}: name at least one expectation, e.g. expect error_rate<1%")
    checked_expect(f"hypothesis {name}", expect)
    return HypothesisStart(name, expect)


def checked_expect(where: str, expect: dict[str, Any]) -> Any:
    """The scenario schema's Expect for these expectations (UsageError naming the bad one)."""
    from harness.scenario import Expect

    return _schema_checked(Expect, expect, where)


def parse_expectations(text: str) -> dict[str, Any]:
    """`error_rate<1% p99_ms < 300 codes.APPROVED>0` -> {"error_rate": "< 1%", ..., "codes": {"APPROVED": "> 0"}}.

    The keys and thresholds are those of a scenario's `expect`; the scenario
    model validates them before the hypothesis starts.
    """
    out: dict[str, Any] = {}
    consumed = _EXPECTATION.sub("", text).strip()
    if consumed:
        raise UsageError(f"hypothesis: cannot read {consumed!r}; write expectations like error_rate<1% p99_ms<300")
    for key, op, value in _EXPECTATION.findall(text):
        threshold = f"{op} {value}"
        if "." in key:
            group, _, sub = key.partition(".")
            out.setdefault(group, {})[sub] = threshold
        else:
            out[key] = threshold
    return out


# ---------------------------------------------------------------- completion


def complete(line: str, vocab: Vocabulary) -> list[str]:
    """Candidates for the word being typed (the text after the last space)."""
    words = line.split(" ")
    current, before = words[-1], [w for w in words[:-1] if w]
    options = _options(before, vocab)
    return [o for o in options if o.startswith(current) and o != current] if current else options


def suggest(line: str, vocab: Vocabulary) -> str | None:
    """The whole line with the word being typed completed, or None."""
    candidates = complete(line, vocab)
    if not candidates or not line or line.endswith(" "):
        return None
    head, _, current = line.rpartition(" ")
    prefix = _common_prefix(candidates)
    completed = prefix if len(prefix) > len(current) else candidates[0]
    return f"{head} {completed}" if head else completed


def tab_complete(line: str, vocab: Vocabulary) -> str:
    """The line after Tab, as a shell does: one candidate is completed (with a space after a
    whole word), several extend to their common prefix; unlike `suggest`, never a guess."""
    candidates = complete(line, vocab)
    if not candidates or not line or line.endswith(" "):
        return line
    head, sep, current = line.rpartition(" ")
    word = candidates[0] if len(candidates) == 1 else _common_prefix(candidates)
    if len(word) <= len(current):
        return line
    whole = len(candidates) == 1 and not word.endswith("=")
    return head + sep + word + (" " if whole else "")


def _common_prefix(items: list[str]) -> str:
    first, last = min(items), max(items)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def _options(before: list[str], vocab: Vocabulary) -> list[str]:
    if not before:
        return [c for c in COMMAND_WORDS if c != "noop"]
    word = before[0].lower()
    position = len(before)
    if word in PROCESS_ACTIONS:
        if position == 1:
            return [s if n == 1 else f"{s}#{i}" for s, n in vocab.services.items() for i in range(n)]
        return []
    if word in FAULT_WORDS:
        if position == 1:
            targets = set(vocab.links.values())
            return [*vocab.links, *[s for s in vocab.services if s in targets]]
        if word == "down":
            return []
        used = {w.partition("=")[0] for w in before[2:]}
        attrs = [a for a in TOXICS[word] if a not in used and a != _main_attribute(word)]
        extra = [f"stream={s}" for s in STREAMS] if "stream" not in used else []
        return [f"{a}=" for a in attrs] + extra + ([] if "toxicity" in used else ["toxicity="])
    if word == "clear" and position == 1:
        return ["all", *vocab.fault_ids]
    if word == "hypothesis":
        if position == 1:
            return ["start", "end"]
        if before[1] == "start" and position == 3:
            return ["expect"]
        if before[1] == "start" and position > 3:
            used = {re.split(r"[<>=!]", w)[0] for w in before[4:]}
            return [k for k in hypothesis_keys() if k not in used]
        return []
    if word == "phase" and position == 1:
        return [*vocab.phases, "next", "stop"]
    if word == "run" and position == 1:
        files = sorted(glob.glob("scenarios/*.yaml") + glob.glob("*.yaml"))
        return files + [f[len("scenarios/"):-len(".yaml")] for f in files if f.startswith("scenarios/")]
    if word == "help" and position == 1:
        return list(HELP)
    return []


def hypothesis_keys() -> list[str]:
    """The expectation names a hypothesis may use: the scenario schema's `expect` keys."""
    from harness.scenario import Expect

    keys = [k for k in Expect.model_fields if k not in ("endpoints", "instances", "recovers_within", "retry_after")]
    return [f"{k}." if k in ("codes", "classes") else k for k in keys]


def _main_attribute(word: str) -> str | None:
    from harness.faults.shorthand import main_attribute

    return main_attribute(word)


def help_text(topic: str | None = None) -> list[str]:
    if topic:
        key = topic if topic in HELP else ("toxic" if topic in TOXICS else None)
        if key is None:
            raise UsageError(f"help: no command {topic!r}; commands: {', '.join(HELP)}")
        return [HELP[key]]
    return list(HELP.values())
