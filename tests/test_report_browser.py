"""tinynet.report in a real browser: headless Chromium opens generated reports from file:// and checks
that they draw, react and load nothing. Skipped (with the reason) only where Selenium, Chromium or
its driver is missing.

The docs' screenshot comes from :func:`test_screenshot`: ``TINYNET_REPORT_SCREENSHOT=docs/img/report.png``
writes it there; ``TINYNET_REPORT_FILE=sweep.html`` takes it of that report instead of the test
sweep (e.g. of the default ``compare_inits.py --report``), at the view ``TINYNET_REPORT_VIEW``
(an address fragment, default ``#a=he&b=zeros&layer=2&step=8``)."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import report_studies

from tinynet.experiments import Config, run, sweep
from tinynet.experiments.cli import write_run_report, write_study_report, write_sweep_report

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVERS = ("chromedriver", "chromium-driver")


def _find(names: tuple[str, ...]) -> str | None:
    return next((path for path in map(shutil.which, names) if path), None)


@pytest.fixture(scope="module")
def driver():
    """One headless Chromium for the module, with its console log kept."""
    browser, chromedriver = _find(BROWSERS), _find(DRIVERS)
    if browser is None or chromedriver is None:
        missing = " and ".join(n for n, p in (("Chromium", browser), ("chromedriver", chromedriver)) if not p)
        pytest.skip(f"no browser for the report tests: {missing} not found (apt-get install chromium "
                    "chromium-driver)")  # fmt: skip
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1800", "--disable-extensions", "--no-first-run"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(chromedriver), options=options)
    yield chrome
    chrome.quit()


@pytest.fixture(scope="module")
def run_page(tmp_path_factory) -> str:
    result = run(Config(depth=3, width=24, epochs=2, limit=500, seed=1), quiet=True, record_every=4)
    path = tmp_path_factory.mktemp("report") / "run.html"
    write_run_report(str(path), result)
    return str(path)


@pytest.fixture(scope="module")
def sweep_page(tmp_path_factory) -> str:
    config = Config(depth=3, width=16, epochs=2, limit=400)
    result = sweep(["he", "zeros", "xavier"], seeds=2, config=config, jobs=1, histories=True)
    path = tmp_path_factory.mktemp("report") / "sweep.html"
    write_sweep_report(str(path), result)
    return str(path)


@pytest.fixture(scope="module")
def study_pages(tmp_path_factory) -> dict[str, str]:
    """The report of each study example (edge_of_chaos, coord_check, lr_transfer) on tiny runs."""
    folder = tmp_path_factory.mktemp("studies")
    pages = {}
    for example in report_studies.EXAMPLES:
        pages[example] = str(folder / f"{example}.html")
        results = {"config": {"seed": 0}, **report_studies.results(example)}
        write_study_report(pages[example], results, example)
    return pages


def _open(driver, path: str, fragment: str = "") -> None:
    driver.get("about:blank")
    driver.get_log("browser")  # drop what came before
    driver.get("file://" + os.path.abspath(path) + fragment)
    deadline = time.monotonic() + 10
    while driver.execute_script("return document.body.getAttribute('data-ready')") != "1":
        assert time.monotonic() < deadline, "the report never finished drawing"
        time.sleep(0.05)


def _errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def _ridges(driver, kind: str) -> list[str]:
    selector = f"svg[data-chart^='ridge-{kind}'] path.ridge-area"
    return [p.get_attribute("d") for p in driver.find_elements(By.CSS_SELECTOR, selector)]


@pytest.mark.parametrize("page", ["run_page", "sweep_page"])
def test_opens_without_console_errors_and_every_chart_draws(driver, page, request) -> None:
    _open(driver, request.getfixturevalue(page))
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 8
    drawn = [c for c in charts if "empty" not in (c.get_attribute("class") or "")]
    assert len(drawn) >= 6
    for chart in drawn:
        paths = [p.get_attribute("d") for p in chart.find_elements(By.TAG_NAME, "path")]
        assert any(d and len(d) > 10 for d in paths), chart.get_attribute("data-chart")
    assert _errors(driver) == []
    # nothing was requested: no resource entries, and the page never left file://
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert driver.execute_script("return location.protocol") == "file:"


@pytest.mark.parametrize("example", report_studies.EXAMPLES)
def test_every_study_chart_draws_without_console_errors(driver, study_pages, example) -> None:
    _open(driver, study_pages[example])
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    expected = {"edge_of_chaos": 8, "coord_check": 4, "lr_transfer": 2, "architectures": 9}[example]
    assert len(charts) == expected
    for chart in charts:
        name = chart.get_attribute("data-chart")
        assert "empty" not in (chart.get_attribute("class") or ""), name
        lines = [p.get_attribute("d") for p in chart.find_elements(By.CSS_SELECTOR, "path.line")]
        assert lines and all(d and len(d) > 10 for d in lines), name
        for axis in ("x", "y"):
            assert chart.find_elements(By.CSS_SELECTOR, f"text.tick.{axis}"), (name, axis)
    if example == "lr_transfer":  # each width's best rate is ringed
        assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart circle.mark")) == 2 * 2
    assert _errors(driver) == []


def _repeated_tick_labels(driver) -> list[tuple[str, str, list[str]]]:
    """(chart, axis, labels) of every axis of the page whose tick labels repeat one."""
    found = driver.execute_script(
        "var out = [];"
        "document.querySelectorAll('svg.chart').forEach(function (svg) {"
        "  ['x', 'y'].forEach(function (axis) {"
        "    var t = Array.prototype.map.call(svg.querySelectorAll('text.tick.' + axis),"
        "      function (n) { return n.textContent; }).filter(function (x) { return x; });"
        "    out.push([svg.getAttribute('data-chart'), axis, t]);"
        "  });"
        "});"
        "return out;"
    )
    return [(chart, axis, labels) for chart, axis, labels in found if len(set(labels)) != len(labels)]


def test_no_axis_repeats_a_tick_label(driver, sweep_page, run_page) -> None:
    # zero weights: the gradient reaches one layer only, its std moves within a very narrow log range
    _open(driver, sweep_page, "#a=zeros&b=he")
    ticks = driver.find_elements(By.CSS_SELECTOR, "svg.chart text.tick")
    assert len(ticks) > 50
    assert _repeated_tick_labels(driver) == []
    _open(driver, run_page)
    assert _repeated_tick_labels(driver) == []


def test_scrubber_changes_the_histograms(driver, run_page) -> None:
    _open(driver, run_page)
    scrubber = driver.find_element(By.ID, "scrubber")
    assert int(scrubber.get_attribute("max")) >= 3
    last = _ridges(driver, "values")
    driver.execute_script("var s = arguments[0]; s.value = 0; s.dispatchEvent(new Event('input'));", scrubber)
    first = _ridges(driver, "values")
    assert first and len(first) == len(last) and first != last
    assert "step=0" in driver.execute_script("return location.hash")
    assert _ridges(driver, "grads") != []
    # play walks the steps forward
    driver.find_element(By.ID, "play").click()
    time.sleep(1.0)
    assert int(scrubber.get_attribute("value")) >= 1
    driver.find_element(By.ID, "play").click()
    assert _errors(driver) == []


def test_hovering_a_layer_highlights_it_everywhere(driver, run_page) -> None:
    _open(driver, run_page)
    target = driver.find_elements(By.CSS_SELECTOR, "svg[data-chart^='ridge-values'] g.ridge[data-layer='2']")[
        0
    ]
    ActionChains(driver).move_to_element(target.find_element(By.CSS_SELECTOR, "text.ridge-label")).perform()
    assert "layer 2" in driver.find_element(By.ID, "layer-label").text
    lit = driver.find_elements(By.CSS_SELECTOR, ".hl[data-layer='2']")
    charts = {
        e.find_element(By.XPATH, "ancestor::*[local-name()='svg']").get_attribute("data-chart") for e in lit
    }
    assert len(charts) >= 5  # ridgelines, and each per-layer chart over training
    assert not driver.find_elements(By.CSS_SELECTOR, ".hl:not([data-layer='2'])")
    assert driver.find_elements(By.CSS_SELECTOR, ".dim[data-layer='1']")
    driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('mouseleave'))", target)
    assert not driver.find_elements(By.CSS_SELECTOR, ".hl")


def test_location_hash_restores_the_view(driver, sweep_page) -> None:
    _open(driver, sweep_page, "#a=zeros&b=xavier&layer=2&step=8")
    assert driver.find_element(By.ID, "select-a").get_attribute("value") == "zeros"
    assert driver.find_element(By.ID, "select-b").get_attribute("value") == "xavier"
    assert driver.find_element(By.ID, "step-label").text.startswith("step 8 ")
    assert driver.find_elements(By.CSS_SELECTOR, ".hl[data-layer='2']")
    titles = [
        t.text for t in driver.find_elements(By.CSS_SELECTOR, "svg[data-chart^='ridge-values'] .chart-title")
    ]
    assert titles[0].startswith("A zeros") and titles[1].startswith("B xavier")
    # choosing B in the leaderboard updates the hash, and that hash reopens the same view
    rows = driver.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")
    row = next(r for r in rows if r.find_element(By.CSS_SELECTOR, "td.name").text == "he")
    row.find_elements(By.CSS_SELECTOR, "button.pick")[1].click()
    fragment = driver.execute_script("return location.hash")
    assert "b=he" in fragment and "a=zeros" in fragment
    _open(driver, sweep_page, fragment)
    assert driver.find_element(By.ID, "select-b").get_attribute("value") == "he"
    assert _errors(driver) == []


def test_leaderboard_sorts(driver, sweep_page) -> None:
    _open(driver, sweep_page)
    names = lambda: [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#leaderboard td.name")]  # noqa: E731
    header = driver.find_element(By.CSS_SELECTOR, "#leaderboard th[data-key='init']")
    header.click()
    assert names() == sorted(names())
    driver.find_element(By.CSS_SELECTOR, "#leaderboard th[data-key='init']").click()
    assert names() == sorted(names(), reverse=True)
    assert _errors(driver) == []


def test_screenshot(driver, sweep_page, tmp_path) -> None:
    """The docs' screenshot (README, docs/diagnostics.md) comes from here: with
    ``TINYNET_REPORT_SCREENSHOT=docs/img/report.png`` the picture is also written there, of the
    report ``TINYNET_REPORT_FILE`` when given (at the view ``TINYNET_REPORT_VIEW``)."""
    page = os.environ.get("TINYNET_REPORT_FILE") or sweep_page
    _open(driver, page, os.environ.get("TINYNET_REPORT_VIEW", "#a=he&b=zeros&layer=2&step=8"))
    assert _errors(driver) == []
    driver.set_window_size(1400, 1500)
    driver.execute_script("window.scrollTo(0, document.querySelectorAll('section')[1].offsetTop - 60)")
    out = tmp_path / "report.png"
    assert driver.save_screenshot(str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
    target = os.environ.get("TINYNET_REPORT_SCREENSHOT")
    if target:
        shutil.copyfile(out, target)
    driver.set_window_size(1400, 1800)
