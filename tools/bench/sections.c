/*
 * The single-thread figures every allocator gets, under its own name:
 *
 *	NAME.single.SIZE	one allocation and one free, repeated
 *	NAME.burst.2048		32 allocations, then the 32 frees in the
 *				order of allocation (a receive interrupt
 *				refilling its ring), per allocation+free
 *
 * The timed loops are the allocator's own (alloc_*.c), so that its calls
 * are direct calls.  The allocators of one program are measured side by
 * side (bench_measure_set), their runs alternating.
 */
#include "bench.h"

#include <stdio.h>

void
bench_section_single(const struct bench_alloc *const *ba, int nba,
    struct fig *at)
{
	struct fig f[BENCH_SET_MAX];
	char key[64];

	for (int i = 0; i < BENCH_NSIZES; i++) {
		bench_measure_set(bench_loop_single, ba, nba, bench_sizes[i],
		    1, f);
		for (int a = 0; a < nba; a++) {
			(void) snprintf(key, sizeof (key), "%s.single.%zu",
			    ba[a]->ba_name, bench_sizes[i]);
			bench_emit(key, &f[a]);
			if (bench_sizes[i] == BENCH_SIZE)
				at[a] = f[a];
		}
	}
}

void
bench_section_burst(const struct bench_alloc *const *ba, int nba)
{
	struct fig f[BENCH_SET_MAX];
	char key[64];

	bench_measure_set(bench_loop_burst, ba, nba, BENCH_SIZE, BENCH_BURST,
	    f);
	for (int a = 0; a < nba; a++) {
		(void) snprintf(key, sizeof (key), "%s.burst.%d",
		    ba[a]->ba_name, BENCH_SIZE);
		bench_emit(key, &f[a]);
	}
}
