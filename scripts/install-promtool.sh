#!/usr/bin/env bash
# install-promtool.sh: put Prometheus's promtool on PATH (/usr/local/bin) for
# the alert rule tests in deploy/. It takes the binary out of Debian's
# prometheus package without installing the package, so no Prometheus
# server is set up or started. Needs root and apt.
set -euo pipefail

DEST=${DEST:-/usr/local/bin}

if command -v promtool >/dev/null; then
    echo "promtool already installed: $(command -v promtool)"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"

cd "$work"
apt-get download prometheus >/dev/null 2>&1 || {
    apt-get update -qq
    apt-get download prometheus >/dev/null
}
dpkg-deb -x prometheus_*.deb root
install -m 0755 root/usr/bin/promtool "$DEST/promtool"
"$DEST/promtool" --version | head -n 1
