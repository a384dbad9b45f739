#!/bin/sh
# Install into a scratch tree, then build a small module-writer's program
# against it the way a user would (pkg-config --cflags/--libs ustreams),
# link it with the shared library and run it.  Checks the installed
# headers, ustreams.pc, the soname and that the shared library boots.
set -eu
cd "$(dirname "$0")/.."
dest=build/inst
rm -rf "$dest"
make --no-print-directory install PREFIX=/usr DESTDIR="$PWD/$dest" >/dev/null
export PKG_CONFIG_PATH="$PWD/$dest/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$PWD/$dest"
src=build/inst-check.c
cat > "$src" <<'PROG'
#include <sys/stream.h>
#include <sys/ddi.h>
#include <sys/ustreams.h>
#include <string.h>

int
main(void)
{
	struct ustreams_config cfg;
	mblk_t *mp;

	ustreams_config_init(&cfg);
	if (ustreams_boot(&cfg) != 0)
		return (1);
	if ((mp = allocb(5, BPRI_MED)) == NULL)
		return (2);
	memcpy(mp->b_wptr, "hello", 5);
	mp->b_wptr += 5;
	if (msgdsize(mp) != 5)
		return (3);
	freemsg(mp);
	return (ustreams_shutdown());
}
PROG
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror $(pkg-config --cflags ustreams) -o build/inst-check \
    "$src" $(pkg-config --libs ustreams)
LD_LIBRARY_PATH="$PWD/$dest/usr/lib" ./build/inst-check
soname=$(objdump -p "$dest/usr/lib/libustreams.so" | awk '/SONAME/ {print $2}')
[ "$soname" = libustreams.so.0 ] || { echo "install: soname $soname"; exit 1; }
echo "install: headers, ustreams.pc and libustreams.so.0 work from an installed tree"
