#!/bin/sh
# Before the package goes away (not on an upgrade): stop and disable the
# timer, so that no link to a removed unit is left behind. deb calls this
# with "remove", rpm with 0 (the number of versions left).
set -e
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now cleanup-stale.timer >/dev/null 2>&1 || true
	fi
	;;
esac
