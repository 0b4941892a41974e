"""The Dagster UI in a real browser: every asset and check shown, "Materialize all" succeeds."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from assets.definitions import build_definitions
from rag_pipelines.config import load_sources_file
from tests.ui.browser import RequestLog, artifacts_dir, chromium
from tests.ui.dagster_dev import DagsterDev, dagster_dev

pytestmark = pytest.mark.slow
TIMEOUT_MS = 60_000


def expected_graph(dev: DagsterDev) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """group → asset names, and asset name → check names, from the Definitions themselves."""
    graph = build_definitions(load_sources_file(dev.sources)).resolve_asset_graph()
    groups: dict[str, list[str]] = defaultdict(list)
    for key in graph.get_all_asset_keys():
        groups[graph.get(key).group_name].append(key.to_user_string())
    checks: dict[str, list[str]] = defaultdict(list)
    for check in graph.asset_check_keys:
        checks[check.asset_key.to_user_string()].append(check.name)
    return dict(groups), dict(checks)


def dismiss_welcome(page: Page) -> None:
    """Close the 'Join the Dagster community' dialog a fresh instance shows (once, a moment
    after the first page loads)."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=15_000)
    except PlaywrightTimeout:
        return
    skip.click()
    skip.wait_for(state="detached")


def wait_backfill(home: Path, timeout_s: float) -> tuple[PartitionBackfill, list[dg.DagsterRun]]:
    """The backfill the UI launched once it is done, and its runs."""
    instance = dg.DagsterInstance.from_config(str(home))
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            backfills = instance.get_backfills()
            if backfills and backfills[0].status not in (
                BulkActionStatus.REQUESTED,
                BulkActionStatus.CANCELING,
                BulkActionStatus.FAILING,
            ):
                runs = instance.get_runs(
                    dg.RunsFilter(tags={"dagster/backfill": backfills[0].backfill_id})
                )
                return backfills[0], list(runs)
            time.sleep(0.5)
    finally:
        instance.dispose()
    raise TimeoutError(f"the backfill did not finish within {timeout_s} s")


def test_asset_graph_checks_and_materialize_all(tmp_path: Path) -> None:
    shots = artifacts_dir()
    with chromium() as browser, dagster_dev(tmp_path) as dev:  # skips before starting Dagster
        groups, checks = expected_graph(dev)
        page = browser.new_page(viewport={"width": 1800, "height": 1100})
        page.set_default_timeout(TIMEOUT_MS)
        requests = RequestLog(page)
        page.goto(f"{dev.url}/asset-groups")
        dismiss_welcome(page)
        for group, names in sorted(groups.items()):
            page.goto(f"{dev.url}/locations/assets/asset-groups/{group}")
            for name in names:
                page.get_by_text(name, exact=True).first.wait_for()
            page.screenshot(path=shots / f"dagster-group-{group}.png")
        for asset, names in sorted(checks.items()):
            page.goto(f"{dev.url}/assets/{asset}?view=checks")
            for name in names:
                page.get_by_text(name, exact=True).first.wait_for()
            page.screenshot(path=shots / f"dagster-checks-{asset}.png")

        page.goto(f"{dev.url}/asset-groups")
        page.get_by_role("button", name="Materialize all").first.click()
        dialog = page.get_by_role("dialog")
        total = sum(len(n) for n in groups.values())
        dialog.get_by_text(f"Launch runs to materialize {total} assets").wait_for()
        dialog.get_by_role("button", name="All", exact=True).click()
        page.screenshot(path=shots / "dagster-materialize-all.png")
        dialog.get_by_role("button", name="Launch backfill").click()
        backfill, runs = wait_backfill(dev.home, timeout_s=420)
        page.goto(f"{dev.url}/runs/b/{backfill.backfill_id}")
        page.get_by_text("Status").first.wait_for()
        shown = page.get_by_text("Succeeded", exact=True).count()
        page.screenshot(path=shots / "dagster-backfill.png", full_page=True)
    assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS, dev.log
    assert runs and {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    assert shown >= 1, "the backfill page does not say Succeeded"
    assert requests.foreign() == []
