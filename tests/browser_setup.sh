#!/usr/bin/env bash
# Install what the browser test needs when it is missing: Debian's chromium (Playwright drives it
# through `executable_path`, since `playwright install` may have no network to download from).
# Safe to run every time: it does nothing when chromium is already there. Never fails the build:
# if chromium cannot be installed, tests/test_browser.py skips and says why.
set -u
CHROMIUM="${NGPU_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "browser_setup: chromium missing and no root/sudo to install it; the browser test will skip" >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser_setup: chromium missing and no apt-get here; install chromium by hand" \
         "(or set NGPU_CHROMIUM to its path); the browser test will skip" >&2
    exit 0
fi
echo "browser_setup: installing chromium with apt-get (once)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null 2>&1 \
         && $SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; } \
    || echo "browser_setup: apt-get could not install chromium; the browser test will skip" >&2
exit 0
