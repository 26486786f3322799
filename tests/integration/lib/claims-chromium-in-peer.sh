#!/usr/bin/env bash
# Chromium for the claims_c24 test, run in the veth's PEER namespace (the "clinician's machine"),
# so the browser's own background traffic never counts as traffic of the Veil deployment in the
# test namespace. Used through VEIL_CHROMIUM (lib/browser.mjs); exec keeps the pid and the
# DevTools pipe (fds 3 and 4) that playwright-core opened.
set -euo pipefail
exec ip netns exec "${VEIL_NETNS_NAME:?run through lib/in-netns}-peer" /usr/bin/chromium "$@"
