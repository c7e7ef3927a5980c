#!/usr/bin/env bash
# Installs Debian's chromium for the chat page test (tests/test_page.py drives it through
# Playwright with executable_path=/usr/bin/chromium; Playwright never downloads a browser).
# Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "tests/test_page.py needs /usr/bin/chromium: run 'sudo apt-get install chromium'" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
