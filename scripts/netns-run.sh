#!/usr/bin/env bash
# Run a command inside a fresh, loopback-only network namespace.
#
# WebRTC tests (node-datachannel and Chromium) run through this so ICE never gathers on,
# or sends from, the machine's real interfaces. PostgreSQL stays reachable through its
# unix socket (/var/run/postgresql); anything else a test needs (a broker, a registrar)
# it starts itself on the namespace's loopback.
#
# Never skips: if a namespace cannot be made, this fails loudly.
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi
if [ "${PEERFETCH_IN_NETNS:-}" = "1" ]; then
  exec "$@"
fi
unshare_args=(--net)
if [ "$(id -u)" -ne 0 ]; then
  unshare_args=(--map-root-user --net)
fi
export PEERFETCH_IN_NETNS=1
exec unshare "${unshare_args[@]}" -- sh -c 'ip link set lo up && exec "$@"' netns-run "$@"
