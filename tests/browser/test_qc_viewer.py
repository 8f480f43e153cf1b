"""The QC page's images and aids in a real browser: true proportions that fit at 1440 px, zoom, the slice
viewer (scrolling, fat/water, window/level), the keyboard help, confidence and time, and the eid search; all
under the Content-Security-Policy."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.archives import cohort_archives
from tests.factories import processed_scans
from ukbstudy.accounts.services import user_create
from ukbstudy.imaging.models import Scan
from ukbstudy.qc.models import QCDecision

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("erasable_qc_history")]

RECORD_VIOLATIONS = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
    e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""


@pytest.fixture(scope="module")
def viewer_archives(tmp_path_factory):
    return cohort_archives(tmp_path_factory.mktemp("qc-viewer"), 2, seed=83)


@pytest.fixture
def scans(viewer_archives) -> list[Scan]:
    return processed_scans(viewer_archives)


@pytest.fixture
def wide_page(browser):
    """A 1440 x 900 window (a common laptop screen), recording CSP violations."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    yield page
    context.close()


def log_in(page, live_server, username: str, role: str = "rater"):
    user_create(username=username, password="a-long-password-1", role=role)
    page.goto(f"{live_server.url}/qc/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a-long-password-1")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#scan-title")).to_be_visible()


def no_violations(page) -> None:
    found = page.evaluate("window.__cspViolations || []")
    assert not found, "\n".join(found)


def shown_slice(page) -> tuple[int, str]:
    image = page.locator("#slice-image")
    return int(image.get_attribute("data-index")), image.get_attribute("src")


def wait_for_slice_loaded(page) -> None:
    page.wait_for_function("""() => { const i = document.getElementById('slice-image');
        return i.complete && i.naturalWidth > 0 && i.currentSrc.endsWith(i.getAttribute('src')); }""")


def screenshot_mean(page) -> float:
    """Mean grey value of the slice as Chromium draws it (filter applied)."""
    picture = Image.open(io.BytesIO(page.locator("#slice-image").screenshot())).convert("L")
    return float(np.asarray(picture, dtype=np.float32).mean())


def test_the_images_keep_their_proportions_and_fit_beside_the_panel(wide_page, live_server, scans):
    page = wide_page
    log_in(page, live_server, "rita")
    page.wait_for_function("Array.from(document.querySelectorAll('.qc-images img')).every(i => i.complete)")
    aside = page.locator("aside").bounding_box()
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll('.qc-images img')).map(i => {
        const r = i.getBoundingClientRect();
        return {id: i.id || i.closest('figure').className, left: r.left, right: r.right, width: r.width,
                height: r.height, natural: i.naturalWidth / i.naturalHeight, aspect: i.dataset.aspect || '',
                rendering: getComputedStyle(i).imageRendering,
                caption: i.closest('figure').querySelector('figcaption').textContent.trim()}; })""")
    assert len(boxes) == 6  # the slice viewer, four projections and the network input
    for box in boxes:
        assert box["left"] >= 0 and box["right"] <= aside["x"], box  # on screen, beside the decision panel
        assert box["height"] >= 120 and box["caption"], box
        assert box["rendering"] == "pixelated", box
        width, height = (float(n) for n in box["aspect"].split("/")) if box["aspect"] else (box["natural"], 1)
        assert box["width"] / box["height"] == pytest.approx(width / height, rel=0.03), box
    network = next(b for b in boxes if "network_input" in b["id"])
    assert network["aspect"] and network["width"] / network["height"] < network["natural"]  # mm, not pixels
    page.locator(".figure-qc_fat_coronal img").click()  # click to zoom
    expect(page.locator("#zoom")).to_be_visible()
    zoomed = page.locator("#zoom-image").bounding_box()
    assert zoomed["height"] > 2 * page.locator(".figure-qc_fat_coronal img").bounding_box()["height"]
    page.keyboard.press("Escape")
    expect(page.locator("#zoom")).to_be_hidden()
    no_violations(page)


def test_keys_and_the_wheel_scroll_through_the_slices_of_fat_and_water(wide_page, live_server, scans):
    page = wide_page
    log_in(page, live_server, "rita")
    count = int(page.locator("#slice-viewer").get_attribute("data-count"))
    index, source = shown_slice(page)
    assert f"/slices/fat/{index}.png" in source and 0 < index < count - 1
    wait_for_slice_loaded(page)
    page.keyboard.press("ArrowDown")
    assert shown_slice(page) == (index + 1, source.replace(f"/fat/{index}.png", f"/fat/{index + 1}.png"))
    expect(page.locator("#slice-index")).to_have_text(str(index + 2))
    wait_for_slice_loaded(page)
    page.locator("#slice-frame").hover()
    page.mouse.wheel(0, -120)
    page.mouse.wheel(0, -120)
    expect(page.locator("#slice-image")).to_have_attribute("data-index", str(index - 1))
    page.keyboard.press("PageDown")
    assert shown_slice(page)[0] == min(count - 1, index + 9)
    page.keyboard.press("t")
    assert "/slices/water/" in shown_slice(page)[1]
    expect(page.locator("#slice-kind")).to_have_text("Water")
    wait_for_slice_loaded(page)
    assert page.evaluate("document.getElementById('slice-image').naturalWidth") > 0
    assert page.locator("#id_verdict").input_value() == ""  # no decision key fired
    no_violations(page)


def test_window_and_level_change_what_is_drawn(wide_page, live_server, scans):
    page = wide_page
    log_in(page, live_server, "rita")
    wait_for_slice_loaded(page)
    image = page.locator("#slice-image")
    assert image.evaluate("i => i.style.filter") == ""
    served = page.request.get(live_server.url + image.get_attribute("src")).body()  # the tile, unfiltered
    tile = np.asarray(Image.open(io.BytesIO(served)), np.float32)
    before = screenshot_mean(page)
    assert before == pytest.approx(tile.mean(), abs=3)  # the full window draws the tile as it is
    for _ in range(4):
        page.keyboard.press("[")  # window 1 / 1.25^4 of the range wide
    narrowed = image.evaluate("i => i.style.filter")
    assert "contrast" in narrowed
    for _ in range(6):
        page.keyboard.press(".")  # level from the middle of the range down to 0.2 of it: brighter
    assert image.evaluate("i => i.style.filter") != narrowed
    expect(page.locator("#slice-window")).to_have_text("-1 to 103")
    low, width = 0.2 - 0.4096 / 2, 0.4096
    expected = np.clip((tile / 255 - low) / width, 0, 1).mean() * 255
    brighter = screenshot_mean(page)
    assert brighter == pytest.approx(expected, abs=3) and brighter > before + 10
    page.keyboard.press("r")
    assert image.evaluate("i => i.style.filter") == ""
    assert screenshot_mean(page) == pytest.approx(before, abs=1)
    box = page.locator("#slice-frame").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 80, box["y"] + box["height"] / 2 + 60, steps=5)
    page.mouse.up()
    assert image.evaluate("i => i.style.filter") != ""  # dragged: narrower and darker
    assert screenshot_mean(page) < before - 3
    assert "zoomed" not in page.locator("#slice-viewer").get_attribute("class")  # a drag is not a click
    page.locator("#slice-frame").click()
    assert "zoomed" in page.locator("#slice-viewer").get_attribute("class")
    no_violations(page)


def test_the_help_lists_the_keys_and_keys_wait_while_it_is_open(wide_page, live_server, scans):
    page = wide_page
    log_in(page, live_server, "rita")
    expect(page.locator("#help")).to_be_hidden()
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    expect(page.locator("#help")).to_contain_text("confidence")
    page.keyboard.press("p")  # no verdict while the help is open
    assert page.locator("#id_verdict").input_value() == ""
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    page.keyboard.press("p")
    assert page.locator("#id_verdict").input_value() == "pass"
    no_violations(page)


def test_confidence_and_the_time_taken_are_recorded_with_the_decision(wide_page, live_server, scans):
    page = wide_page
    log_in(page, live_server, "rita")
    first = page.inner_text("#scan-title")
    expect(page.locator("#queue-left")).to_have_text("2")
    expect(page.locator("#decided-today")).to_have_text("0")
    page.keyboard.press("p")
    page.keyboard.press("c")
    expect(page.locator("#confidence-pending")).to_have_text("press 1-5")
    page.keyboard.press("4")
    expect(page.locator("[data-confidence='4']")).to_have_attribute("aria-pressed", "true")
    assert page.locator("#id_reason").input_value() == ""  # the 4 was the confidence, not a reason
    page.wait_for_timeout(1200)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#scan-title")).not_to_have_text(first)
    expect(page.locator("#decided-today")).to_have_text("1")
    expect(page.locator("#queue-left")).to_have_text("1")
    page.keyboard.press("q")
    page.keyboard.press("Shift+Digit2")
    expect(page.locator("[data-confidence='2']")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Shift+Digit2")  # the same again: no confidence after all
    assert page.locator("#id_confidence").input_value() == ""
    page.keyboard.press("Shift+Digit5")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Nothing to review")
    decisions = list(QCDecision.objects.order_by("decided_at", "id"))
    assert [(d.verdict, d.confidence) for d in decisions] == [("pass", 4), ("questionable", 5)]
    assert 1.2 <= decisions[0].seconds_spent < 60 and 0 <= decisions[1].seconds_spent < 60
    no_violations(page)


def test_the_eid_search_finds_a_participant_or_says_there_is_none(wide_page, live_server, scans):
    page = wide_page
    log_in(page, live_server, "rita")
    page.keyboard.press("/")
    expect(page.locator("#nav-eid")).to_be_focused()
    page.keyboard.type("p")  # typed into the box, not a verdict
    assert page.locator("#id_verdict").input_value() == ""
    page.fill("#nav-eid", str(scans[1].subject.eid))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/results/participants/{scans[1].subject.eid}/")
    expect(page.locator("#participant-title")).to_have_text(f"Participant {scans[1].subject.eid}")
    page.fill("#nav-eid", "4242")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#search-answer")).to_have_text("There is no participant with eid 4242.")
    no_violations(page)
