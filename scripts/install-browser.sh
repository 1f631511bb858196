#!/usr/bin/env bash
# Installs Debian's chromium for the headless browser tests (tests/ui).
# Playwright drives this system browser through `executable_path`, so
# `playwright install` (which downloads its own browsers) is never needed.
# Idempotent: does nothing when /usr/bin/chromium already exists.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

# apt needs root; use sudo when it is available and we are not root (e.g. CI runners).
SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-noto-cjk
echo "installed: $(/usr/bin/chromium --version)"
