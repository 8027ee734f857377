#!/usr/bin/env bash
# Installs Debian's Chromium and its driver for the browser tests (tests/browser) when missing.
# Used by .ci/run; quiet and harmless when both are already there. Nothing is downloaded by Selenium.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
echo "Chromium or chromedriver missing; installing Debian's packages" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
