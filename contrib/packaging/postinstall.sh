#!/bin/sh
# After the package's files are in place (install or upgrade, deb or rpm):
# make systemd read the new units. Nothing is enabled or started: the
# service runs as the web app's user on the web app's paths, which only
# the administrator knows (docs/operating.md, systemd).
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
