/*
 * bench-dpdk: DPDK's pktmbuf pools, the same figures as the other
 * allocators get, built only where DPDK is installed (pkg-config libdpdk).
 * When the EAL cannot start, it prints why (skip.dpdk) and exits 0: the
 * report goes on without the DPDK column.
 */
#include "bench.h"

#include <stdio.h>

int
main(int argc, char **argv)
{
	static const struct bench_alloc *const dpdk[] = { &bench_dpdk,
		&bench_dpdk_bulk };
	char why[512];
	struct fig f;

	(void) argc;
	bench_init();
	if (bench_dpdk_init(argv[0], why, sizeof (why)) != 0) {
		bench_skip("dpdk", "%s", why);
		return (0);
	}
	bench_emitf("dpdk.version", "%s", bench_dpdk_version());
	for (int i = 0; i < BENCH_NSIZES; i++) {
		char key[64];

		(void) snprintf(key, sizeof (key), "dpdk.footprint.%zu",
		    bench_sizes[i]);
		bench_emitf(key, "%zu", bench_dpdk_footprint(bench_sizes[i]));
	}
	bench_section_single(dpdk, 1, &f);
	bench_section_burst(dpdk, 2);
	bench_scaling(dpdk, 1, BENCH_SIZE, &f.f_med);
	bench_pipeline(dpdk, 1, BENCH_SIZE, &f.f_med);
	bench_dpdk_fini();
	return (0);
}
