#!/bin/sh
# After the package's files are gone or replaced: make systemd forget the
# removed units.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
