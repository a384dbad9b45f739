/*
 * ustreams-demo: the main job until the testbench lands.
 *
 * Boots one instance under the sim executive, allocates 2048-byte blocks
 * at each priority until admission refuses them, registers a bufcall for
 * the refused BPRI_LO size, frees everything, lets the executive run the
 * callback, and prints the STREAMS allocation table, netstat -m style.
 *
 * Usage: ustreams-demo [memsize-bytes]
 */
#include <sys/ustreams.h>
#include <sys/ustreams_stat.h>
#include <sys/stream.h>
#include <sys/ddi.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define	BLKSIZE		2048
#define	MAXBLOCKS	65536

static mblk_t *blocks[MAXBLOCKS];
static int nblocks;
static bool callback_ran;
static int callback_freed;

static int
fill(uint_t pri)
{
	int n = 0;

	while (nblocks < MAXBLOCKS &&
	    (blocks[nblocks] = allocb(BLKSIZE, pri)) != NULL) {
		nblocks++;
		n++;
	}
	return (n);
}

static size_t
inuse(void)
{
	struct ustreams_memstat ms;

	(void) ustreams_memstat(&ms);
	return (ms.ms_inuse);
}

static void
lo_callback(void *arg)
{
	int *freed = arg;

	callback_ran = true;
	callback_freed = *freed;
}

static void
print_table(void)
{
	struct ustreams_strstat ss;
	struct ustreams_bufcallstat bs;
	static const char *const pn[] = { "", "BPRI_LO", "BPRI_MED", "BPRI_HI" };

	(void) ustreams_strstat(&ss);
	(void) ustreams_bufcallstat(&bs);
	printf("\nstreams allocation (size classes):\n");
	printf("  %-9s %9s %8s %8s %8s %8s %8s\n", "class", "footprint",
	    "alloc", "free", "total", "max", "fail");
	for (unsigned i = 0; i < ss.ss_nclass; i++) {
		const struct ustreams_classstat *c = &ss.ss_class[i];

		if (c->cs_total == 0 && c->cs_fail == 0)
			continue;
		printf("  %-9s %9zu %8llu %8llu %8llu %8llu %8llu\n",
		    c->cs_name, c->cs_footprint,
		    (unsigned long long)c->cs_inuse,
		    (unsigned long long)c->cs_cached,
		    (unsigned long long)c->cs_total,
		    (unsigned long long)c->cs_max,
		    (unsigned long long)c->cs_fail);
	}
	printf("\nrefusals by priority:");
	for (int p = BPRI_LO; p <= BPRI_HI; p++)
		printf("  %s %llu", pn[p],
		    (unsigned long long)ss.ss_fail_pri[p]);
	printf("\nbufcall:");
	for (int p = BPRI_LO; p <= BPRI_HI; p++) {
		if (bs.bs_issued[p] == 0)
			continue;
		printf("  %s issued %llu fired %llu cancelled %llu "
		    "pending %llu spurious %llu", pn[p],
		    (unsigned long long)bs.bs_issued[p],
		    (unsigned long long)bs.bs_fired[p],
		    (unsigned long long)bs.bs_cancelled[p],
		    (unsigned long long)bs.bs_pending[p],
		    (unsigned long long)bs.bs_spurious[p]);
	}
	printf("\nmemory: %zu bytes budget, %zu in use, %zu high-water, "
	    "%zu cached, %zu framework overhead; region %zu bytes%s\n",
	    ss.ss_mem.ms_size, ss.ss_mem.ms_inuse, ss.ss_mem.ms_maxinuse,
	    ss.ss_mem.ms_cached, ss.ss_mem.ms_overhead,
	    ss.ss_mem.ms_region_size,
	    ss.ss_mem.ms_below4g ? ", below 4 GB" : "");
}

int
main(int argc, char **argv)
{
	struct ustreams_config cfg;
	struct ustreams_memstat ms;
	int lo, med, hi, freed = 0, error;
	bufcall_id_t id;

	ustreams_config_init(&cfg);
	cfg.uc_memsize = 1024 * 1024;
	if (argc > 1) {
		char *end;

		errno = 0;
		cfg.uc_memsize = strtoull(argv[1], &end, 0);
		if (errno != 0 || *end != '\0') {
			fprintf(stderr, "usage: %s [memsize-bytes]\n", argv[0]);
			return (2);
		}
	}
	/* Each block is 2560 bytes of budget: the array must outlast it. */
	if (cfg.uc_memsize / 2560 >= MAXBLOCKS) {
		fprintf(stderr, "ustreams-demo: %zu bytes is more than this demo "
		    "fills (at most %zu)\n", cfg.uc_memsize,
		    (size_t)(MAXBLOCKS - 1) * 2560);
		return (2);
	}
	if ((error = ustreams_boot(&cfg)) != 0) {
		fprintf(stderr, "ustreams-demo: boot failed (error %d)\n",
		    error);
		return (1);
	}
	(void) ustreams_memstat(&ms);
	printf("ustreams demo: %zu bytes of STREAMS memory, BPRI_LO up to "
	    "%u%% (%zu bytes), BPRI_MED up to %u%% (%zu), BPRI_HI up to all\n",
	    ms.ms_size, cfg.uc_lo_pct, ms.ms_lo_limit, cfg.uc_med_pct,
	    ms.ms_med_limit);

	printf("\nallocb(%d, pri) until refused:\n", BLKSIZE);
	lo = fill(BPRI_LO);
	printf("  BPRI_LO   %5d blocks, then refused: %zu bytes in use\n",
	    lo, inuse());
	if ((id = bufcall(BLKSIZE, BPRI_LO, lo_callback, &freed)) == 0) {
		fprintf(stderr, "ustreams-demo: bufcall(%d, BPRI_LO) failed\n",
		    BLKSIZE);
		(void) ustreams_shutdown();
		return (1);
	}
	printf("  bufcall(%d, BPRI_LO) registered, id %d\n", BLKSIZE, id);
	med = fill(BPRI_MED);
	printf("  BPRI_MED +%4d blocks, then refused: %zu bytes in use\n",
	    med, inuse());
	hi = fill(BPRI_HI);
	printf("  BPRI_HI  +%4d blocks, then refused: %zu bytes in use\n",
	    hi, inuse());
	print_table();

	printf("\nfreeing, one block at a time, running the executive after "
	    "each:\n");
	while (nblocks > 0) {
		freeb(blocks[--nblocks]);
		freed++;
		(void) ustreams_sim_run_idle();
		if (callback_ran && callback_freed == freed)
			printf("  the BPRI_LO bufcall ran after %d blocks were "
			    "freed (%zu bytes in use)\n", freed, inuse());
	}
	print_table();
	(void) ustreams_shutdown();
	if (!(callback_ran && lo > 0 && med > 0 && hi > 0)) {
		fprintf(stderr, "ustreams-demo: expected each priority to get "
		    "blocks and the bufcall to run; it did not\n");
		return (1);
	}
	return (0);
}
