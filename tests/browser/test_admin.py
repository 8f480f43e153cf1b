"""A study administrator logs in and finds an imported scan, its inventory and deviations."""

import pytest

from tests.archives import cohort_archives
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_finds_an_imported_scan(page, live_server, django_user_model, tmp_path):
    django_user_model.objects.create_superuser("admin", "admin@example.org", "a-long-admin-password")
    archive = cohort_archives(tmp_path / "cohort", 1, seed=31, faults={"repeated_station": 1.0})[0]
    scans_import_archives(paths=[archive])
    scan = Scan.objects.get()

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "a-long-admin-password")
    page.click("input[type=submit]")
    page.get_by_role("link", name="Scans", exact=True).click()
    page.fill("#searchbar", str(scan.subject.eid))
    page.press("#searchbar", "Enter")
    page.get_by_role("link", name=str(scan), exact=True).click()
    expect(page.locator("h2")).to_have_text(str(scan))  # waits for the scan's page
    expect(page.locator(".field-deviations_pretty")).to_contain_text("repeated_station")
    expect(page.locator(".field-inventory_pretty")).to_contain_text("Dixon_BH_17s_F")
    page.screenshot(path=str(tmp_path / "scan.png"), full_page=True)
