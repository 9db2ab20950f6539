"""The Videos tab and the APIMart page in a real browser: Playwright drives Debian's Chromium
against a real Airflow API server (tests/ui_airflow.py), signing in through the login form.

``make browser-test`` installs Playwright and runs this; Chromium comes from Debian's package
``chromium`` (``.ci/run`` installs it). Screenshots go to ``$APIMART_SCREENSHOTS`` (docs/images/ui
when the docs are refreshed), else to pytest's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from tests.ui_airflow import SHOWCASE_DAG, SHOWCASE_PROMPTS, TEAMS, USERS, UiAirflow

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.skipif(not TEAMS, reason="the second user needs multi-team mode (Airflow 3.2+)"),
]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: As the machine's notes say: no background connections on a closed network; root needs no sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Resolves once the first <video> can play: readyState >= 2, then seeks to 1 s.
PLAY_AND_SEEK = """async () => {
  const video = document.querySelector('video[data-testid=player]');
  if (video.readyState < 2) {
    await new Promise((ok, fail) => {
      video.addEventListener('loadeddata', ok, {once: true});
      const failed = () => fail(new Error('video error ' + video.error?.code));
      video.addEventListener('error', failed, {once: true});
      video.load();
    });
  }
  const before = {
    readyState: video.readyState, duration: video.duration, src: video.currentSrc};
  await new Promise((ok) => { video.addEventListener('seeked', ok, {once: true}); video.currentTime = 1.0; });
  return {...before, seekedTo: video.currentTime};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("APIMART_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signed_in(browser: Any, world: UiAirflow, user: str) -> Any:
    """A page signed in as ``user`` through the simple auth manager's own login form."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(world.base_url + "/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", USERS[user])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(world.base_url) + r"/?$"))
    return page


def run_tab(world: UiAirflow) -> str:
    return f"{world.base_url}/dags/{SHOWCASE_DAG}/runs/{quote(world.run_id, safe='')}/plugin/apimart-videos"


def tab_frame(page: Any) -> Any:
    page.wait_for_selector("iframe")
    for _ in range(100):
        frame = next((frame for frame in page.frames if "/apimart/videos" in frame.url), None)
        if frame is not None:
            frame.wait_for_load_state()
            return frame
        page.wait_for_timeout(100)
    raise AssertionError(f"no Videos frame among {[frame.url for frame in page.frames]}")


def test_a_reviewer_plays_and_seeks_the_stored_video_and_sees_what_the_run_cost(
    browser: Any, ui_world: UiAirflow, shots: Path
) -> None:
    page = signed_in(browser, ui_world, "reviewer")
    page.goto(run_tab(ui_world))
    frame = tab_frame(page)
    frame.wait_for_selector("[data-testid=player]")
    played = frame.evaluate(PLAY_AND_SEEK)
    assert played["readyState"] >= 2
    assert played["duration"] > 0
    assert "/apimart/media?" in played["src"]
    assert played["seekedTo"] == pytest.approx(1.0, abs=0.25)
    shown = float(frame.inner_text("[data-testid=total-cost]"))
    assert shown == pytest.approx(ui_world.total_cost())
    assert frame.locator("[data-testid=video-card]").count() == 5
    page.screenshot(path=str(shots / "videos-tab.png"))
    frame.locator("body").screenshot(path=str(shots / "videos-cards.png"))
    page.goto(ui_world.base_url + "/plugin/apimart")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(shots / "apimart-page.png"), full_page=True)
    page.close()


def test_a_user_who_may_not_read_the_dag_sees_nothing_of_it(
    browser: Any, ui_world: UiAirflow, shots: Path
) -> None:
    page = signed_in(browser, ui_world, "outsider")
    page.goto(run_tab(ui_world))
    page.wait_for_timeout(2500)
    seen = " ".join(frame.content() for frame in page.frames)
    assert 'data-testid="video-card"' not in seen
    assert not any(prompt in seen for prompt in SHOWCASE_PROMPTS)
    page.goto(ui_world.base_url + "/apimart/")
    assert page.inner_text("[data-testid=generations]") == "0"
    assert page.inner_text("[data-testid=spend]") == "0"
    page.screenshot(path=str(shots / "outsider-apimart-page.png"))
    page.close()
