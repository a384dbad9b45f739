/*
 * What a block costs in memory: the message header, and each size class's
 * footprint against the buffer it holds.
 *
 *	ustreams.header		sizeof (mblk_t) + sizeof (dblk_t)
 *	ustreams.class.I	name buffer-bytes footprint-bytes, from the
 *				statistics table (ustreams_strstat)
 *	ustreams.footprint.SIZE	bytes allocb(SIZE) occupies: its class
 *	jemalloc.footprint.SIZE	nallocx(SIZE): the size class jemalloc uses
 *
 * The other programs print the same for glibc (chunk size) and DPDK
 * (mempool object: header, mbuf, headroom, data room, trailer).
 */
#include "bench.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ustreams_stat.h>

#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <string.h>

void
bench_footprint(void)
{
	struct ustreams_strstat ss;
	char key[64];

	bench_emitf("ustreams.mblk", "%zu", sizeof (mblk_t));
	bench_emitf("ustreams.dblk", "%zu", sizeof (dblk_t));
	bench_emitf("ustreams.header", "%zu", sizeof (mblk_t) +
	    sizeof (dblk_t));
	if (ustreams_strstat(&ss) != 0)
		return;
	for (unsigned i = 0; i < ss.ss_nclass; i++) {
		const struct ustreams_classstat *cs = &ss.ss_class[i];

		if (cs->cs_footprint == 0)
			continue;	/* oversize: no fixed footprint */
		(void) snprintf(key, sizeof (key), "ustreams.class.%u", i);
		bench_emitf(key, "%s %zu %zu", cs->cs_name, cs->cs_size,
		    cs->cs_footprint);
	}
	for (int i = 0; i < BENCH_NSIZES; i++) {
		size_t size = bench_sizes[i], fp = 0;
		mblk_t *mp = allocb((int)size, BPRI_MED);

		/* The class is the data class whose buffer allocb gave. */
		for (unsigned c = 0; mp != NULL && c < ss.ss_nclass; c++) {
			if (ss.ss_class[c].cs_size != 0 &&
			    ss.ss_class[c].cs_size == (size_t)MBLKSIZE(mp))
				fp = ss.ss_class[c].cs_footprint;
		}
		if (mp != NULL)
			freeb(mp);
		(void) snprintf(key, sizeof (key), "ustreams.footprint.%zu",
		    size);
		bench_emitf(key, "%zu", fp);
		(void) snprintf(key, sizeof (key), "jemalloc.footprint.%zu",
		    size);
		bench_emitf(key, "%zu", nallocx(size, 0));
	}
}
