#!/usr/bin/env bash
# lib/netns-guard (run by lib/in-netns before every test) passes inside the test namespace and
# refuses (exit 97) when another link appears or when it is not in a namespace of its own.
# Runs inside lib/in-netns like every integration test.
set -euo pipefail
guard="$(dirname "$0")/lib/netns-guard"
failures=0
check() {  # check NAME EXPECTED_STATUS COMMAND...
  local name=$1 expected=$2 status=0
  shift 2
  "$@" >/dev/null 2>&1 || status=$?
  if [ "$status" -eq "$expected" ]; then echo "ok: $name"; else
    echo "FAIL: $name (exit $status, expected $expected)"; failures=$((failures + 1)); fi
}

check "passes in the fresh namespace" 0 "$guard" true
check "runs the given command" 0 "$guard" test -n "$VEIL_NETNS_ADDR"
check "only lo and the veth exist" 0 bash -c "[ \"\$(ip -o link | wc -l)\" -eq 2 ]"
check "no route leaves except via the veth peer" 0 bash -c "ip route | grep -q 'default via .* dev $VEIL_NETNS_IF'"
check "refuses without the in-netns environment" 97 env -u VEIL_NETNS_IF "$guard" true
check "refuses in what it is told is the host namespace" 97 \
  env VEIL_HOST_NETNS="$(readlink /proc/self/ns/net)" "$guard" true
ip link add veilx0 type veth peer name veilx1
check "refuses when another link appears" 97 "$guard" true
ip link del veilx0
check "passes again once it is gone" 0 "$guard" true

passed=$((8 - failures))
echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
