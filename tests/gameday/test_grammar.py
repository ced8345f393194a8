"""The game day command line: what is accepted, what is refused, what completes."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.gameday.grammar import (ActionCommand, ClearCommand, FaultCommand, FindingCommand, HypothesisEnd,
                                     HypothesisStart, NoteCommand, PhaseCommand, QuitCommand, UsersCommand, Vocabulary,
                                     complete, help_text, parse, suggest, tab_complete)

VOCAB = Vocabulary(
    links={"lending->credit-bureau-a": "credit-bureau-a", "lending->credit-bureau-b": "credit-bureau-b",
           "lending->payment-gateway-primary": "payment-gateway-primary", "client->lending": "lending"},
    services={"lending": 2, "credit-bureau-a": 1, "credit-bureau-b": 1, "payment-gateway-primary": 1},
    fault_ids=["g1", "g2"],
    phases=["baseline", "bureau-down"],
)


def test_latency_with_jitter_reads_like_the_fixture_keywords():
    cmd = parse("latency lending->credit-bureau-a 800ms jitter=200ms", VOCAB)
    assert isinstance(cmd, FaultCommand)
    (spec,) = cmd.entries
    assert (spec.link, spec.toxic, spec.stream) == ("lending->credit-bureau-a", "latency", "downstream")
    assert spec.attributes == {"latency": 800, "jitter": 200}


def test_each_attribute_is_read_in_its_own_unit():
    # slicer's delay is in microseconds: 1ms is 1000, not 1
    (spec,) = parse("slicer credit-bureau-a 100 delay=1ms", VOCAB).entries
    assert spec.attributes == {"average_size": 100, "delay": 1000}
    (spec,) = parse("latency credit-bureau-a 1.5s", VOCAB).entries
    assert spec.attributes == {"latency": 1500}


def test_a_service_name_means_every_link_into_it():
    cmd = parse("down credit-bureau-b", VOCAB)
    assert [s.link for s in cmd.entries] == ["lending->credit-bureau-b"]
    assert cmd.entries[0].toxic == "down"


def test_http_toxics_run_upstream_and_take_their_status():
    (spec,) = parse("http_error lending->payment-gateway-primary 503 toxicity=0.25", VOCAB).entries
    assert (spec.stream, spec.toxicity, spec.attributes) == ("upstream", 0.25, {"status": 503})


def test_process_faults_name_an_instance():
    (spec,) = parse("pause lending#1", VOCAB).entries
    assert (spec.service, spec.instance, spec.action) == ("lending", 1, "pause")
    (spec,) = parse("kill credit-bureau-a", VOCAB).entries
    assert (spec.service, spec.instance, spec.action) == ("credit-bureau-a", 0, "kill")


@pytest.mark.parametrize("line, message", [
    ("latency nowhere 800ms", "unknown link or service 'nowhere'"),
    ("latency credit-bureau-a 800ms jiter=1", "did you mean 'jitter'"),
    ("latency credit-bureau-a", "needs attribute(s): latency"),
    ("latency credit-bureau-a soon", "expected a duration"),
    ("http_error credit-bureau-a 503 stream=downstream", "upstream stream only"),
    ("latency credit-bureau-a 1s toxicity=2", "toxicity"),
    ("kill lending#2", "no #2"),
    ("kill nowhere", "unknown service"),
    ("down credit-bureau-a 5", "takes only"),
    ("clear g9", "no active fault 'g9'"),
    ("users many", "users N"),
    ("users 10 0", "above 0"),
    ("hypothesis start steady expect error_rat<1%", "unknown key 'error_rat' (did you mean 'error_rate'?)"),
    ("hypothesis start steady expect classes.sucess>1", "unknown key 'sucess' (did you mean 'success'?)"),
    ("hypothesis start steady expect p99_ms<3%", "p99_ms"),
    ("hypothesis start steady", "at least one expectation"),
    ("phase nowhere", "no phase 'nowhere'"),
    ("note", "write the text"),
    ("finding   ", "finding: write the text after 'finding', e.g. finding "),
    ("action", "action: write the text after 'action', e.g. action "),
    ("action @sam", "action: write the text before the owner"),
    ("frobnicate", "unknown command 'frobnicate'"),
])
def test_bad_lines_are_refused_with_the_word_at_fault(line, message):
    with pytest.raises(UsageError, match=None) as info:
        parse(line, VOCAB)
    assert message in str(info.value)


def test_other_commands():
    assert parse("  ", VOCAB) is None
    assert parse("clear all", VOCAB) == ClearCommand("all")
    assert parse("clear g2", VOCAB) == ClearCommand("g2")
    assert parse("users 50 10", VOCAB) == UsersCommand(50, 10.0)
    assert parse("note 14:03 paged on-call, rolled back", VOCAB) == NoteCommand("14:03 paged on-call, rolled back")
    assert parse("phase bureau-down", VOCAB) == PhaseCommand("bureau-down")
    assert parse("phase next", VOCAB) == PhaseCommand("next")
    assert parse("hypothesis end", VOCAB) == HypothesisEnd()
    assert isinstance(parse("quit", VOCAB), QuitCommand)


def test_findings_and_action_items_keep_the_text_as_typed_and_take_an_owner_at_the_end():
    assert parse("finding the bureau's breaker opened in 2 s, \"as designed\"", VOCAB) == FindingCommand(
        "the bureau's breaker opened in 2 s, \"as designed\"")  # prose: quotes are not shell quotes
    assert parse("action alert on degraded answers @sam", VOCAB) == ActionCommand("alert on degraded answers", "sam")
    assert parse("ACTION write the bureau runbook", VOCAB) == ActionCommand("write the bureau runbook", None)
    # only a last word starting with @ is the owner
    assert parse("action ask @kim about the cache TTL", VOCAB) == ActionCommand("ask @kim about the cache TTL")
    assert parse("action mail ops@example.com", VOCAB) == ActionCommand("mail ops@example.com")
    assert parse("action ask @kim @sre-team", VOCAB) == ActionCommand("ask @kim", "sre-team")
    assert parse("action fix it @", VOCAB) == ActionCommand("fix it @")


def test_help_and_completion_know_findings_and_action_items():
    assert complete("f", VOCAB) == ["finding"] and complete("ac", VOCAB) == ["action"]
    assert tab_complete("fin", VOCAB) == "finding "
    assert complete("finding ", VOCAB) == [] and complete("action fix it ", VOCAB) == []  # free text
    assert {"finding", "action"} <= set(complete("help ", VOCAB))
    assert help_text("action") == ["action TEXT [@OWNER]         (an action item; @OWNER at the end says who owns it)"]
    assert any(line.startswith("finding TEXT") for line in help_text())


def test_hypothesis_expectations_use_the_scenario_vocabulary():
    cmd = parse("hypothesis start steady expect error_rate<1% p99_ms < 300 codes.APPROVED_DEGRADED>0", VOCAB)
    assert cmd == HypothesisStart("steady", {"error_rate": "< 1%", "p99_ms": "< 300",
                                             "codes": {"APPROVED_DEGRADED": "> 0"}})


def test_a_hypothesis_may_bound_the_count_of_errors_but_not_as_a_share():
    cmd = parse("hypothesis start calm expect errors<=2 codes.OVERLOADED<=3", VOCAB)
    assert cmd == HypothesisStart("calm", {"errors": "<= 2", "codes": {"OVERLOADED": "<= 3"}})
    assert "errors" in complete("hypothesis start x expect error_rate<1% ", VOCAB)
    with pytest.raises(UsageError, match="error_rate"):
        parse("hypothesis start calm expect errors<1%", VOCAB)


def test_completion_offers_only_names_that_exist():
    assert complete("la", VOCAB) == ["latency"]
    assert "credit-bureau-a" in complete("down ", VOCAB)
    assert "lending->credit-bureau-a" in complete("latency ", VOCAB)
    assert complete("kill lend", VOCAB) == ["lending#0", "lending#1"]
    assert complete("clear ", VOCAB) == ["all", "g1", "g2"]
    assert complete("latency credit-bureau-a 800ms ", VOCAB)[0] == "jitter="
    assert "jitter=" not in complete("latency credit-bureau-a 800ms jitter=1 ", VOCAB)
    assert complete("hypothesis start x ", VOCAB) == ["expect"]
    assert "p99_ms" in complete("hypothesis start x expect error_rate<1% ", VOCAB)
    assert "error_rate" not in complete("hypothesis start x expect error_rate<1% ", VOCAB)
    assert complete("phase b", VOCAB) == ["baseline", "bureau-down"]


def test_suggest_completes_the_common_prefix_then_the_word():
    assert suggest("down cr", VOCAB) == "down credit-bureau-"
    assert suggest("down credit-bureau-b", VOCAB) is None
    assert suggest("latency lending->credit-bureau-a 800ms j", VOCAB) == "latency lending->credit-bureau-a 800ms jitter="
    assert suggest("hyp", VOCAB) == "hypothesis"
    assert suggest("nothing-matches", VOCAB) is None


def test_tab_completes_one_candidate_and_stops_at_what_several_share():
    assert tab_complete("down cr", VOCAB) == "down credit-bureau-"
    assert tab_complete("down credit-bureau-", VOCAB) == "down credit-bureau-"  # a or b: no guess
    assert tab_complete("hyp", VOCAB) == "hypothesis "
    assert tab_complete("latency lending->credit-bureau-a 800ms j", VOCAB) == "latency lending->credit-bureau-a 800ms jitter="
    assert tab_complete("nothing-matches", VOCAB) == "nothing-matches"
