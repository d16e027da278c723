"""The Dagster UI in a real browser (Playwright driving Debian's Chromium, no browser download):
the asset graph, the sensors running, the schedules with their defaults, and a passing and a
failing asset check, on the instance the daemon test filled."""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.timeout(1200)

CHROMIUM = "/usr/bin/chromium"

# The on/off switch of an automation's row: walk up from its name to the row, which holds the
# row's select box and the toggle (the last checkbox).
TOGGLE_STATE = """
(name) => {
  const label = [...document.querySelectorAll('a, span, div')].find(e => e.textContent.trim() === name);
  if (!label) return null;
  for (let node = label; node; node = node.parentElement) {
    const boxes = node.querySelectorAll('input[type=checkbox]');
    if (boxes.length >= 2) return boxes[boxes.length - 1].checked;
  }
  return null;
}
"""


@pytest.fixture(scope="module")
def page(live, processed):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def open_page(page, live, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live.url}{path}")
    skip = page.get_by_role("button", name="Skip")  # the first-visit community dialog
    # The dialog only shows once per browser profile; its absence is fine.
    with contextlib.suppress(PlaywrightTimeout):
        skip.click(timeout=5_000)


def test_asset_graph_shows_the_pipeline(page, live) -> None:  # type: ignore[no-untyped-def]
    open_page(page, live, "/asset-groups")
    for group in ("ingestion", "enrichment", "resolution", "qualification"):
        page.get_by_text(group, exact=True).first.wait_for()
    open_page(page, live, "/locations/lead_assets/asset-groups/enrichment")
    page.get_by_text("enriched_leads", exact=True).first.wait_for()
    page.get_by_text("generect_enrichment", exact=True).first.wait_for()


def test_sensors_run_and_schedules_are_listed(page, live) -> None:  # type: ignore[no-untyped-def]
    open_page(page, live, "/automation")
    page.get_by_text("Run status sensor").first.wait_for()
    page.get_by_text("Scheduled At 02:30 AM UTC").first.wait_for()  # rows finished loading
    expected = {
        "file_drop_sensor": True,
        "credits_sensor": True,
        "leedrush_status_sensor": True,
        "run_failure_alert_sensor": True,
        "ops_alert_sensor": True,
        "nightly_maintenance_schedule": True,
        "icp_daily_pull_saas_revenue_leaders_us": False,  # it spends: off by default
        "generect_counts_sensor": False,
    }
    page.wait_for_function(f"() => ({TOGGLE_STATE})('file_drop_sensor') !== null", timeout=60_000)
    states = {name: page.evaluate(TOGGLE_STATE, name) for name in expected}
    assert states == expected


def test_a_passing_and_a_failing_check(page, live) -> None:  # type: ignore[no-untyped-def]
    open_page(page, live, "/assets/enriched_leads?view=checks")
    page.get_by_text("email_deliverable_rate").first.wait_for()
    page.get_by_text("Failed").first.wait_for()
    page.get_by_text("This is a blocking asset check.").first.wait_for()
    page.get_by_text("are undeliverable").first.wait_for()
    open_page(page, live, "/assets/standardized_leads?view=checks")
    page.get_by_text("no_row_lost").first.wait_for()
    page.get_by_text("Succeeded").first.wait_for()
