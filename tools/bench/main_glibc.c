/*
 * bench-glibc: glibc's malloc and free, the same figures as the other
 * allocators get.  This program links neither ustreams nor jemalloc:
 * jemalloc, linked, would replace malloc for the whole process.  It
 * checks that at run time too, and says so rather than time the wrong
 * allocator.
 */
#include "bench.h"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
	static const struct bench_alloc *const glibc[] = { &bench_glibc };
	struct fig f;

	bench_init();
	if (dlsym(RTLD_DEFAULT, "mallocx") != NULL) {
		bench_skip("glibc", "jemalloc is linked into bench-glibc, so "
		    "malloc is not glibc's");
		return (0);
	}
	bench_emitf("glibc.version", "%s", gnu_get_libc_version());
	for (int i = 0; i < BENCH_NSIZES; i++) {
		void *p = malloc(bench_sizes[i]);
		char key[64];

		/* An in-use chunk: its usable bytes and its size word. */
		(void) snprintf(key, sizeof (key), "glibc.footprint.%zu",
		    bench_sizes[i]);
		bench_emitf(key, "%zu", malloc_usable_size(p) + sizeof (size_t));
		free(p);
	}
	bench_section_single(glibc, 1, &f);
	bench_section_burst(glibc, 1);
	bench_scaling(glibc, 1, BENCH_SIZE, &f.f_med);
	bench_pipeline(glibc, 1, BENCH_SIZE, &f.f_med);
	return (0);
}
