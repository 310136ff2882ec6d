"""The benchmark's smoke, in `make test`: a check that `make bench` measures what it says, not a
timing (nothing here is compared with a number of seconds).

Every scenario runs for about a second against a bench project of its own. The harness fails a
run that saw an error, a status other than the expected one, or a miss that never reached
PostgreSQL; before any load, every baseline must answer the product's JSON for the same list
cursors and post slugs.
"""

from __future__ import annotations

import os

import pytest

from fastdjango_bench.harness.plan import SCENARIOS
from fastdjango_bench.harness.runner import measure, smoke_settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def test_every_scenario_runs_and_every_baseline_answers_the_products_json() -> None:
    project = f"{os.environ.get('E2E_PROJECT', 'fastdjango-e2e')}-bench"
    report = measure(smoke_settings(), project=project, lock=False)

    assert report.problems == []
    assert {result.scenario for result in report.results} == set(SCENARIOS)
    assert all(result.outcome.requests > 0 for result in report.results)
