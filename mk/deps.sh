#!/bin/sh
# Make sure the build dependencies are installed.
#
# Each dependency is looked up with pkg-config.  When one is missing and we
# are root on a machine with apt-get, the Debian packages are installed
# (apt-get update once first); otherwise the exact command is printed and
# the script fails, so that nothing half-builds.
#
# Usage: mk/deps.sh [check|bench]   ("check" also needs valgrind; "bench"
# also tries DPDK, which is optional)
set -u

PKGS_DEB="liburcu-dev libjemalloc-dev check libbsd-dev libdw-dev pkg-config"
PCS="liburcu jemalloc check libbsd libdw"

missing=""
if ! command -v pkg-config >/dev/null 2>&1; then
	missing="pkg-config"
else
	for pc in $PCS; do
		pkg-config --exists "$pc" || missing="$missing $pc"
	done
fi

apt_ok() {
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

apt_update_once() {
	stamp=/tmp/.ustreams-apt-updated
	[ -e "$stamp" ] && return 0
	apt-get update -qq && touch "$stamp"
}

if [ -n "$missing" ]; then
	echo "ustreams: missing build dependencies:$missing"
	if apt_ok; then
		echo "ustreams: installing $PKGS_DEB"
		apt_update_once || exit 1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    $PKGS_DEB >/dev/null || exit 1
	else
		echo "ustreams: run as root:"
		echo "  apt-get update && apt-get install -y $PKGS_DEB"
		exit 1
	fi
	for pc in $PCS; do
		if ! pkg-config --exists "$pc"; then
			echo "ustreams: $pc still missing after install" >&2
			exit 1
		fi
	done
fi

# make check also runs the tests under valgrind's memcheck.
if [ "${1:-}" = check ] && ! command -v valgrind >/dev/null 2>&1; then
	echo "ustreams: valgrind missing (make check runs the tests under it)"
	if apt_ok; then
		echo "ustreams: installing valgrind"
		apt_update_once && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq valgrind >/dev/null || exit 1
	else
		echo "ustreams: run as root: apt-get install -y valgrind"
		exit 1
	fi
fi

if [ "${1:-}" = bench ]; then
	if ! pkg-config --exists libdpdk 2>/dev/null; then
		if apt_ok; then
			echo "ustreams: installing libdpdk-dev for the benchmarks"
			apt_update_once && DEBIAN_FRONTEND=noninteractive \
			    apt-get install -y -qq libdpdk-dev >/dev/null ||
			    echo "ustreams: libdpdk-dev not installed;" \
			        "the DPDK column will be skipped"
		else
			echo "ustreams: DPDK not installed (apt-get install" \
			    "libdpdk-dev as root); the DPDK column will be skipped"
		fi
	fi
fi
exit 0
