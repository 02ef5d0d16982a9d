"""The HTML report and the catalog page in a real headless Chromium (Debian's, driven by Playwright).

Screenshots go to the test's tmp folder (path printed) and, when it exists, to out/screenshots/.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from report_support import orgnr

from reports import write

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


def _screenshot(page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)
        print(f"screenshot: {SHOTS / path.name}")


def test_local_report_page(page, report, tmp_path) -> None:
    paths = write(report, tmp_path / "report")
    page.goto(paths["html"].as_uri())
    assert page.locator("#verdict").inner_text() == "Not verified"
    assert page.locator("#unsigned-banner").is_visible()
    assert "not an official verification" in page.locator("#unsigned-banner").inner_text()
    failures = page.locator("#failures li")
    assert failures.count() == 1
    assert "Fix: Set ServiceRequest.authoredOn to the date of the vedtak." in failures.first.inner_text()
    row = page.locator("#req-KT-03")
    assert row.locator(".status").inner_text() == "failed"
    row.locator("summary").click()                          # the evidence opens
    assert "vedtak-17" in row.locator("pre").inner_text()
    assert page.locator("#product").inner_text() == "EksJournal"
    assert "1 failed" in page.locator("#counts").inner_text()
    # The summary comes before the requirements on the page, as a municipality reads it.
    assert page.locator("#summary-h").bounding_box()["y"] < page.locator("#requirements-h").bounding_box()["y"]
    assert "does not move the vendor's responsibility" in page.locator("#disclaimer").inner_text()
    _screenshot(page, tmp_path / "report-local.png")


def test_catalog_page_and_issued_report(page, operator, passing_report, tmp_path) -> None:
    org_a, org_b = orgnr(31), orgnr(32)
    operator.add_vendor(org_a, "Omsorg Data AS")
    operator.add_vendor(org_b, "Vital Tegn AS")
    current = operator.issue(operator.record(org_a, passing_report.to_dict(), product="OmsorgEPJ",
                                             version="7.1")["run_id"]).json()
    old = operator.issue(operator.record(org_b, passing_report.to_dict(), product="VitalApp",
                                         version="1.0")["run_id"]).json()
    operator.call("POST", "/operator/products", json={"vendor_org": org_b, "product": "VitalApp", "version": "1.1"})
    withdrawn = operator.issue(operator.record(org_a, passing_report.to_dict(), product="OmsorgMobil",
                                               version="2.0")["run_id"]).json()
    operator.call("POST", f"/operator/reports/{withdrawn['report_id']}/revoke", json={"reason": "wrong build"})

    page.goto(f"{operator.url}/operator/catalog")
    assert page.title().startswith("Verified solutions")
    rows = page.locator("#catalog tbody tr")
    assert rows.count() == 3
    status = {r.locator("td").nth(0).inner_text(): r.locator("[data-status]").inner_text()
              for r in rows.all()}
    assert status == {"OmsorgEPJ": "verified", "VitalApp": "stale", "OmsorgMobil": "revoked"}
    stale_row = page.locator(f"tr[data-report-id='{old['report_id']}']")
    assert "current version: 1.1" in stale_row.inner_text()
    assert "source-system" in stale_row.inner_text()
    _screenshot(page, tmp_path / "catalog.png")

    with page.expect_navigation():
        page.locator(f"tr[data-report-id='{current['report_id']}'] a", has_text="report").first.click()
    assert page.locator("#verdict").inner_text() == "Verified"
    assert page.locator("#signed-banner").is_visible() and page.locator("#unsigned-banner").count() == 0
    assert "Omsorg Data AS" in page.locator("#vendor").inner_text()
    _screenshot(page, tmp_path / "report-issued.png")


def test_operator_and_vendor_consoles(browser, operator, report, passing_report, tmp_path) -> None:
    from report_support import OPERATOR_TOKEN
    org_a, org_b = orgnr(41), orgnr(42)
    key_a = operator.add_vendor(org_a, "Alfa Omsorg AS")
    operator.add_vendor(org_b, "Beta Helse AS")
    operator.record(org_a, report.to_dict(), product="AlfaEPJ", version="3.0")
    run_a = operator.record(org_a, passing_report.to_dict(), product="AlfaEPJ", version="3.0")
    run_b = operator.record(org_b, passing_report.to_dict(), product="BetaApp", version="0.9")

    desk = browser.new_context(viewport={"width": 1200, "height": 900})
    page = desk.new_page()
    page.goto(f"{operator.url}/operator/console")
    page.fill("#credential", OPERATOR_TOKEN)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("h1").first.inner_text() == "Operator console"
    assert page.locator("section.vendor").count() == 2
    alfa = page.locator(f"section[data-vendor='{org_a}']")
    assert alfa.locator("tbody tr").count() == 2                      # both attempts, runs per vendor
    assert alfa.locator("text=not issuable").count() == 1
    with page.expect_navigation():
        page.locator(f"tr[data-run-id='{run_a['run_id']}'] form.issue button").click()
    assert "Issued AlfaEPJ 3.0" in page.locator("#notice").inner_text()
    assert page.locator(f"tr[data-run-id='{run_a['run_id']}'] [data-status]").inner_text() == "verified"
    with page.expect_navigation():
        page.locator(f"tr[data-run-id='{run_b['run_id']}'] form.issue button").click()
    row_b = page.locator(f"tr[data-run-id='{run_b['run_id']}']")
    row_b.locator("input[name=reason]").fill("tested build differs from the sold build")
    with page.expect_navigation():
        row_b.locator("form.revoke button").click()
    assert "Revoked BetaApp 0.9" in page.locator("#notice").inner_text()
    assert row_b.locator("[data-status]").inner_text() == "revoked"
    _screenshot(page, tmp_path / "console-operator.png")
    desk.close()

    vendor = browser.new_context(viewport={"width": 1200, "height": 700})
    page = vendor.new_page()
    page.goto(f"{operator.url}/operator/console")
    page.fill("#credential", key_a)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "Alfa Omsorg AS" in page.locator("h1").inner_text()
    assert page.locator("#runs tbody tr").count() == 2
    assert "BetaApp" not in page.content()
    assert page.locator("form.issue").count() == 0                   # vendors cannot issue
    _screenshot(page, tmp_path / "console-vendor.png")
    with page.expect_navigation():
        page.locator(f"tr[data-run-id='{run_a['run_id']}'] a", has_text="report").click()
    assert page.locator("#verdict").inner_text() == "Verified"
    assert page.locator("#unsigned-banner").is_visible()            # a run's report is not the issued one
    other = page.goto(f"{operator.url}/operator/vendor/runs/{run_b['run_id']}/report.html")
    assert other.status == 404
    vendor.close()
