#!/usr/bin/env bash
# Voice-only never opens the camera (design.md §5): started in voice-only, veil-patient sends
# avatar frames and its video capture is never created; the same run in background mode does open
# it (so the check can fail). The server address refuses connections, so each run ends by itself
# after its first frames.
set -euo pipefail
patient=$1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {
  # Port 9 on loopback: nothing listens, the publish fails fast and veil-patient exits.
  timeout 60 "$patient" --server http://127.0.0.1:9 --consultation c --token t \
    --ice-address 127.0.0.1 --source test --no-audio "$@" < /dev/null > "$log" 2>&1 || true
}

run --mode voice-only
grep -q "first avatar frame sent" "$log" || { echo "no avatar frame:"; cat "$log"; exit 1; }
if grep -q "camera opened" "$log"; then echo "voice-only opened the camera:"; cat "$log"; exit 1; fi

run --mode background
grep -q "camera opened" "$log" || { echo "control: background mode did not open the camera:"; cat "$log"; exit 1; }
echo "voice_only_camera: 1 passed, 0 failed"
