"""The pytest plugin, used the way a team would: a test file and a drill file in a project."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def project(pytester, stack: str = "stacks/echo.yaml") -> None:
    shutil.copytree(FIXTURES / "stacks", pytester.path / "stacks")
    shutil.copy(FIXTURES / "echo_service.py", pytester.path / "echo_service.py")
    pytester.makeini(f"[pytest]\nchaosdrill_stack = {stack}\nchaosdrill_report_dir = {pytester.path / 'reports'}\n")


def test_faults_from_ordinary_tests_act_and_are_removed(pytester, isolated_state):
    project(pytester)
    pytester.makepyfile(test_resilience='''
        import json, urllib.request, urllib.error

        def hello(stack):
            try:
                with urllib.request.urlopen(stack.entry_url + "/hello", timeout=3) as r:
                    return json.loads(r.read())["code"]
            except urllib.error.HTTPError as e:
                return json.loads(e.read())["code"]

        def test_front_degrades_explicitly_when_back_is_down(chaosdrill_stack):
            assert hello(chaosdrill_stack) == "OK"
            with chaosdrill_stack.fault("front->back", down=True):
                assert hello(chaosdrill_stack) == "DEP_DOWN"
            assert hello(chaosdrill_stack) == "OK"

        def test_a_paused_dependency_times_out_into_an_explicit_answer(chaosdrill_stack):
            with chaosdrill_stack.fault("back", pause=True):
                assert hello(chaosdrill_stack) == "DEP_DOWN"
            assert hello(chaosdrill_stack) == "OK"

        def test_latency_is_added(chaosdrill_stack):
            import time
            with chaosdrill_stack.fault("client->front", latency="300ms"):
                t = time.monotonic(); hello(chaosdrill_stack); took = time.monotonic() - t
            assert took >= 0.3

        def test_a_failing_assertion_inside_a_fault_still_removes_it(chaosdrill_stack):
            with chaosdrill_stack.fault("front->back", down=True):
                assert False, "boom"
    ''')
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)
    assert not list(isolated_state.glob("*.json"))  # the stack was stopped, its state file removed


def test_drill_files_become_one_test_per_expectation(pytester, isolated_state):
    project(pytester)
    text = (FIXTURES / "scenarios" / "echo-outage.yaml").read_text().replace("../stacks/echo.yaml", "stacks/echo.yaml")
    (pytester.path / "drill_echo_outage.yaml").write_text(text)
    hang = (FIXTURES / "scenarios" / "echo-hang.yaml").read_text().replace("../stacks/echo.yaml", "stacks/echo.yaml")
    (pytester.path / "drill_echo_hang.yaml").write_text(hang)
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert "drill_echo_outage.yaml::back-down: ungraceful PASSED" in out
    assert "drill_echo_outage.yaml::recovery: recovers_within PASSED" in out
    assert "drill_echo_hang.yaml::edge-hang: ungraceful FAILED" in out
    assert "measured" in out  # the failure says what was measured
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["passed"] >= 8


def test_bad_input_is_one_line_not_a_traceback(pytester, isolated_state):
    project(pytester)
    pytester.makepyfile(test_typos='''
        def test_unknown_link(chaosdrill_stack):
            with chaosdrill_stack.fault("front->nowhere", down=True):
                pass

        def test_misspelt_toxic(chaosdrill_stack):
            with chaosdrill_stack.fault("front->back", latncy="800ms"):
                pass
    ''')
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "fault('front->nowhere'): " in out and "front->nowhere" in out
    assert "fault('front->back'): fault on link front->back: unknown keyword 'latncy' (did you mean 'latency'?)" in out
    assert "Traceback" not in out and "raise " not in out
    # One line: not the harness's error, "During handling of the above exception ...", then the same again.
    # Counted in the failure reports only: pytest's short summary repeats the message in full when
    # it runs on CI ($CI set) and cuts it to the terminal's width elsewhere.
    reports = out.split("short test summary info")[0]
    assert "During handling" not in out and reports.count("unknown keyword 'latncy'") == 1, out
    assert not list(isolated_state.glob("*.json"))


def test_a_broken_drill_file_is_reported_with_the_validators_lines(pytester, isolated_state):
    project(pytester)
    (pytester.path / "drill_broken.yaml").write_text("title: broken\nstack: stacks/echo.yaml\nphases: []\nfautls: 1\n")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "drill_broken.yaml:4 fautls: unknown key 'fautls'" in out
    assert "Traceback" not in out and "raise " not in out


def test_an_unknown_stack_fails_its_tests_with_one_line(pytester, isolated_state):
    project(pytester, stack="no-such-stack")
    pytester.makepyfile(test_any="def test_one(chaosdrill_stack):\n    pass\n")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "chaosdrill_stack = no-such-stack: " in out and "Traceback" not in out and "raise " not in out
