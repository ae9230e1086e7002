#!/usr/bin/env bash
# One-time set-up of a fresh Debian 12 machine (as root): the real OVS/OVN daemons and tools the
# project drives, then the npm dependencies and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  ovn-central ovn-host openvswitch-switch   # ovsdb-server, ovn-northd, ovn-nbctl, ovn-trace, ovs-vswitchd, ovn-controller
  python3-openvswitch                        # the Python IDL, a baseline in the benchmarks
  iproute2 ethtool iputils-ping              # network namespaces and veths for pods
  openssl                                    # certificates for the TLS tests
  graphviz                                   # topology pictures
  containernetworking-plugins                # real CNI plugins (macvlan, bridge) for the IPAM tests
  systemd                                    # systemd-analyze verify of the units, systemd-notify
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup: kubectl not found; trying Debian's kubernetes-client" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null 2>&1 ||
    echo "setup: no kubectl available; the kubectl conformance tests will be skipped" >&2
fi

# `npm install` from the committed package-lock.json, not `npm ci`: the npm registry reachable here
# lacks some of rollup's platform-specific optional packages (android, freebsd, ...), so the lock
# can't list them and `npm ci` rejects it as out of sync. `npm install` installs exactly the
# locked versions and leaves the lock unchanged.
npm install --no-audit --no-fund
npm run build
