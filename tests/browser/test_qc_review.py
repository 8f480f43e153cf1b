"""A rater reviews ten scans with the keyboard only; a viewer cannot record."""

import pytest

from tests.archives import cohort_archives
from ukbstudy.accounts.services import user_create
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.services.preprocessing import scan_preprocess
from ukbstudy.qc.models import QCDecision

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("erasable_qc_history")]

# verdict key, reason key (0 = none), note (with shortcut letters that must stay text)
PLAN = [("p", 0, ""), ("f", 1, "swap? pqf nlb"), ("q", 4, ""), ("p", 0, "ok"), ("f", 3, "metal at hip"),
        ("p", 0, ""), ("q", 0, "n then p"), ("p", 0, ""), ("f", 2, "noisy"), ("p", 0, "")]


@pytest.fixture(scope="module")
def review_archives(tmp_path_factory):
    return cohort_archives(tmp_path_factory.mktemp("qc-browser"), 10, seed=61)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/qc/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a-long-password-1")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_rater_reviews_ten_scans_with_the_keyboard_only(page, live_server, review_archives):
    scans_import_archives(paths=review_archives)
    for scan in Scan.objects.all():
        scan_preprocess(scan=scan)
    user_create(username="rita", password="a-long-password-1", role="rater")
    log_in(page, live_server, "rita")
    reviewed = []
    for verdict_key, reason_key, note in PLAN:
        expect(page.locator("#scan-title")).to_be_visible()
        reviewed.append(page.inner_text("#scan-title"))
        page.keyboard.press(verdict_key)
        if reason_key:
            page.keyboard.press(str(reason_key))
        if note:
            page.keyboard.press("n")
            page.keyboard.type(note)
            page.keyboard.press("Escape")
        page.keyboard.press("Enter")
        # The next scan comes in place (fetched ahead) or as a new page: either way its title changes.
        page.wait_for_function("""(title) => { const shown = document.getElementById('scan-title');
            return shown ? shown.textContent !== title : document.querySelector('h1') !== null; }""",
                               arg=reviewed[-1])
    expect(page.locator("h1")).to_have_text("Nothing to review")
    page.keyboard.press("Tab")  # focus leaves the page body only through the keyboard
    page.goto(f"{live_server.url}/qc/previous/")  # the empty page has no shortcuts: its link does the same
    expect(page.locator("#scan-title")).to_have_text(reviewed[-1])
    page.keyboard.press("b")  # back one more, with the keyboard
    expect(page.locator("#scan-title")).to_have_text(reviewed[-2])

    decisions = list(QCDecision.objects.order_by("decided_at", "id").select_related("scan", "rater"))
    reasons = {1: "water_fat_swap", 2: "noise", 3: "metal", 4: "positioning"}
    verdicts = {"p": "pass", "q": "questionable", "f": "fail"}
    expected = [(name, verdicts[v], reasons.get(r, ""), note, "rita")
                for name, (v, r, note) in zip(reviewed, PLAN, strict=True)]
    assert [(str(d.scan), d.verdict, d.reason, d.note, d.rater.username) for d in decisions] == expected


def test_a_viewer_is_refused_the_record_action(page, live_server, review_archives):
    scans_import_archives(paths=review_archives[:1])
    scan = Scan.objects.get()
    scan_preprocess(scan=scan)
    user_create(username="vera", password="a-long-password-1", role="viewer")
    log_in(page, live_server, "vera")
    page.goto(f"{live_server.url}/qc/scan/{scan.pk}/")
    expect(page.locator("#scan-title")).to_have_text(str(scan))
    assert page.locator("#decision").count() == 0
    status = page.evaluate("""async (url) => {
        const token = document.cookie.split('; ').find(c => c.startsWith('csrftoken='))?.split('=')[1] ?? '';
        const response = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token},
                                           body: new URLSearchParams({verdict: 'pass'})});
        return response.status; }""", f"{live_server.url}/qc/scan/{scan.pk}/decide/")
    assert status == 403 and not QCDecision.objects.exists()
