"""Chapter 8 in a real browser: JupyterLab on loopback, headless Chromium, the explorer's widgets.

Needs Debian's chromium (`tests/browser_setup.sh` installs it); skips with the reason when it is
missing. The notebook is copied, outputs cleared, to a temporary folder, so running it never
touches the repository. On a busy machine JupyterLab may open a dialog (the kernel choice, a
notice) over the page: the test waits for what it needs through JupyterLab itself
(`window.jupyterapp`: the notebook open, its kernel idle), runs the cells by command rather than
by menu clicks, and closes any dialog before each action (accepting only the kernel choice).
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "08_looking_inside.ipynb"
CHROMIUM = Path(os.environ.get("NGPU_CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


# JupyterLab's own dialogs: the kernel choice (accepted: the notebook's python3 kernel) and any
# other (dismissed: a notice, "kernel restarting", "server unreachable" …). Either one left open
# covers the page and takes the clicks meant for the notebook (the flaky failure of a busy run).
KERNEL_DIALOG = "Select Kernel"


def dismiss_dialogs(page) -> int:
    """Close every JupyterLab dialog on the page: accept the kernel choice, reject (or escape)
    anything else. Returns how many were closed; never raises for a dialog that closed itself."""
    closed = 0
    for _ in range(5):
        dialog = page.locator(".jp-Dialog")
        if not dialog.count():
            break
        try:
            text = dialog.first.inner_text(timeout=2000)
            accept = dialog.first.locator("button.jp-mod-accept")
            reject = dialog.first.locator("button.jp-mod-reject")
            if KERNEL_DIALOG in text and accept.count():
                accept.first.click(timeout=5000)
            elif reject.count():
                reject.first.click(timeout=5000)
            else:
                page.keyboard.press("Escape")
            closed += 1
        except Exception:  # noqa: BLE001 - it closed meanwhile: look again
            pass
        page.wait_for_timeout(300)
    return closed


def dismiss_toasts(page) -> None:
    """Hide notification toasts (news, updates) that can sit over the page's corner."""
    page.add_style_tag(content=".Toastify, .jp-toast-container {display: none !important}")


def act(page, action, what: str, tries: int = 3):
    """Do a click-like `action()` with dialogs out of the way; if one opened meanwhile and took
    the click ("intercepts pointer events"), close it and try again."""
    for attempt in range(tries):
        dismiss_dialogs(page)
        try:
            return action()
        except Exception as e:  # noqa: BLE001 - Playwright's errors: retried only when a dialog interfered
            if attempt + 1 == tries or not (dismiss_dialogs(page) or "intercepts pointer" in str(e)):
                raise AssertionError(f"{what}: {e}") from None


# the notebook's panel, found through JupyterLab itself (exposed as window.jupyterapp)
NOTEBOOK_JS = """() => {
    const app = window.jupyterapp;
    if (!app) return null;
    for (const w of app.shell.widgets('main')) if (w.content && w.sessionContext) return w;
    return null;
}"""


def notebook_ready(page) -> bool:
    """True once the notebook's cells are on the page and its kernel is idle."""
    return bool(page.evaluate(f"""() => {{
        const nb = ({NOTEBOOK_JS})();
        const session = nb && nb.sessionContext.session;
        return Boolean(nb && nb.content.widgets.length > 0 && session && session.kernel
                       && session.kernel.status === 'idle');
    }}"""))


def run_all_cells(page) -> None:
    """Run every cell through JupyterLab's command, the notebook made current first (no menu
    clicks, which a dialog could intercept)."""
    dismiss_dialogs(page)
    page.evaluate(f"""() => {{
        const nb = ({NOTEBOOK_JS})();
        window.jupyterapp.shell.activateById(nb.id);
        window.jupyterapp.commands.execute('notebook:run-all-cells');  // not awaited: it runs on
    }}""")


def cells_started(page) -> bool:
    """True once any cell shows `[*]` or an execution count in its prompt."""
    prompts = page.locator(".jp-InputArea-prompt").all_inner_texts()
    return any(p.strip() not in ("", "[ ]:") for p in prompts)


def wait_until(page, done, seconds: float, what: str, rerun: bool = False) -> None:
    """Poll `done()` for `seconds`, closing dialogs; with `rerun`, run all cells again after a
    kernel dialog (it swallows the run it interrupted), or when 30 s after a run no cell has
    started (on a loaded machine a run can be sent before the kernel is ready)."""
    deadline = time.monotonic() + seconds
    last_run = time.monotonic()
    while True:
        try:
            if done():
                return
        except Exception:  # noqa: BLE001 - the page changed under the check: look again
            pass
        if dismiss_dialogs(page) and rerun and not cells_started(page):
            run_all_cells(page)
            last_run = time.monotonic()
        elif rerun and time.monotonic() - last_run > 30 and not cells_started(page):
            run_all_cells(page)
            last_run = time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError(what)
        page.wait_for_timeout(1000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 with a token, serving a copy of chapter 8 (fast mode)."""
    if not CHROMIUM.exists():  # install it once (apt-get); the script never fails the build
        subprocess.run(["bash", str(ROOT / "tests" / "browser_setup.sh")], timeout=600, check=False)
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM}: run tests/browser_setup.sh "
                    "(needs apt-get and root) or set NGPU_CHROMIUM")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    work = tmp_path / "notebooks"
    work.mkdir()
    nb = json.loads(CHAPTER.read_text())  # without the committed outputs: all we see is live
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].pop("widgets", None)
    (work / CHAPTER.name).write_text(json.dumps(nb))
    # no news, no update check, no toasts: nothing JupyterLab shows by itself over the page
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps(
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, NGPU_FAST="1", OMP_NUM_THREADS="1",
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
           "--LabApp.expose_app_in_browser=True"]  # window.jupyterapp: commands without clicks
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text())
                time.sleep(0.5)
        # start the notebook's kernel session first, so JupyterLab attaches to it instead of asking
        request = urllib.request.Request(
            f"{base}/api/sessions", method="POST", headers={"Authorization": f"token {token}"},
            data=json.dumps({"path": CHAPTER.name, "type": "notebook", "name": CHAPTER.name,
                             "kernel": {"name": "python3"}}).encode())
        with urllib.request.urlopen(request, timeout=60):
            pass
        yield f"{base}/lab/tree/{CHAPTER.name}?token={token}"
    finally:
        server.terminate()  # by its own PID; the server shuts its kernels down
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_chapter_8_runs_in_jupyterlab_and_the_step_slider_redraws(lab, tmp_path):
    """Chapter 8 runs in JupyterLab, the slider's last step redraws the explorer with the answer, a bad digit
    gives a message. Catches callbacks that never fire in a browser, or input errors as tracebacks."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(int(os.environ.get("NGPU_BROWSER_TIMEOUT", "60000")))
            page.goto(lab)
            timeout = int(os.environ.get("NGPU_BROWSER_TIMEOUT", "60000")) / 1000
            wait_until(page, lambda: page.evaluate("() => Boolean(window.jupyterapp)"), timeout,
                       "JupyterLab did not load")
            dismiss_toasts(page)
            explorer = page.locator(".ngpu-explorer")
            label = explorer.locator(".ngpu-step-label")
            image = explorer.locator(".ngpu-image")
            wait_until(page, lambda: notebook_ready(page), 2 * timeout,
                       "the notebook did not open with an idle kernel")
            # a dialog nobody expects (as JupyterLab may show on a busy machine) is closed, not
            # left to take the clicks: open one on purpose
            page.evaluate("() => { window.jupyterapp.commands.execute('help:about'); }")
            page.locator(".jp-Dialog").first.wait_for(state="visible")
            run_all_cells(page)
            assert not page.locator(".jp-Dialog").count(), "a dialog stayed open"
            # the last cell moves the explorer to step 1 and prints what it read out
            wait_until(page, lambda: label.count() == 1 and label.inner_text() == "1",
                       max(150, 2.5 * timeout), "the explorer did not appear at step 1",
                       rerun=True)
            wait_until(page, lambda: notebook_ready(page), timeout, "the kernel stayed busy")
            expect(page.locator(".jp-OutputArea-output", has_text="after step 1:")).to_have_count(1)
            assert not page.locator(".jp-OutputArea-output", has_text="Traceback").count(), "a cell raised"
            decoded_first = explorer.locator(".ngpu-decoded").inner_text()
            answer_first = explorer.locator(".ngpu-answer").inner_text()
            act(page, image.scroll_into_view_if_needed, "scrolling to the explorer")
            shot_first = image.screenshot()

            handle = explorer.locator(".ngpu-step .noUi-handle")
            act(page, handle.focus, "focusing the step slider")
            act(page, lambda: handle.press("End"), "moving the slider")  # the model's answer
            expect(label).not_to_have_text("1", timeout=20_000)
            last = int(label.inner_text())
            readout = explorer.locator(".ngpu-step .widget-readout").inner_text()
            assert int(readout) == last > 1
            total = int(explorer.locator(".ngpu-answer b").inner_text().split(" of ")[-1])
            assert last == total
            page.wait_for_timeout(500)  # the new PNG is already set with the label; let it paint
            dismiss_dialogs(page)
            assert image.screenshot() != shot_first, "the view did not change with the step"
            decoded_last = explorer.locator(".ngpu-decoded").inner_text()
            assert explorer.locator(".ngpu-answer").inner_text() != answer_first
            page.screenshot(path=str(tmp_path / "explorer.png"), full_page=False)
            print("screenshot:", tmp_path / "explorer.png")
            if os.environ.get("NGPU_EXPLORER_SHOT"):  # chapter 8's stored picture of the explorer
                explorer.screenshot(path=os.environ["NGPU_EXPLORER_SHOT"])
            print(f"decoded after step 1: {decoded_first!r}; after step {last}: {decoded_last!r}")

            # a digit outside the base: a message in the widget, no traceback
            box = explorer.locator(".ngpu-a input")
            act(page, lambda: box.fill("1021"), "typing a digit outside the base")
            act(page, lambda: box.press("Enter"), "pressing Enter")
            expect(explorer.locator(".ngpu-message")).to_contain_text("outside base 2", timeout=20_000)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print("screenshot of the failure:", tmp_path / "failure.png")
            raise
        finally:
            browser.close()
