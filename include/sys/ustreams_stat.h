/*
 * STREAMS statistics, as an application (or strstat) reads them: the
 * "streams allocation" table of netstat -m, per size class.
 */
#ifndef _SYS_USTREAMS_STAT_H
#define	_SYS_USTREAMS_STAT_H

#include <sys/ustreams.h>

#ifdef	__cplusplus
extern "C" {
#endif

#define	USTREAMS_NCLASS		14
#define	USTREAMS_CLASSNAME	16

/*
 * One size class.  Counts are of objects.  inuse and cached are exact
 * when no allocation is in flight; total, max and fail are cumulative
 * since boot.  max is exact while one thread allocates and otherwise
 * within the per-CPU folding slack (see docs/architecture.md).
 */
struct ustreams_classstat {
	char		cs_name[USTREAMS_CLASSNAME];	/* "2432", "mblk" */
	size_t		cs_size;	/* buffer bytes (0: header only) */
	size_t		cs_footprint;	/* bytes one object occupies */
	uint64_t	cs_inuse;	/* allocated now ("alloc") */
	uint64_t	cs_cached;	/* kept in caches ("free") */
	uint64_t	cs_total;	/* allocations since boot */
	uint64_t	cs_max;		/* high-water of cs_inuse */
	uint64_t	cs_fail;	/* refusals */
};

struct ustreams_strstat {
	unsigned	ss_nclass;
	struct ustreams_classstat ss_class[USTREAMS_NCLASS];
	uint64_t	ss_fail_pri[4];	/* refusals by BPRI_LO..BPRI_HI */
	uint64_t	ss_badsize;	/* negative or impossible sizes */
	struct ustreams_memstat ss_mem;
};

extern int ustreams_strstat(struct ustreams_strstat *ssp);

/*
 * bufcall counters, per priority (index BPRI_LO..BPRI_HI; esbbcall
 * requests count under their priority too).  At any quiescent point
 * issued == fired + cancelled + pending.  A spurious wake-up is a callback
 * that, when it ran, would no longer have been admitted (memory was taken
 * again in between).
 */
struct ustreams_bufcallstat {
	uint64_t	bs_issued[4];
	uint64_t	bs_pending[4];	/* waiting or about to run */
	uint64_t	bs_maxpending[4];
	uint64_t	bs_fired[4];
	uint64_t	bs_cancelled[4];
	uint64_t	bs_spurious[4];
	uint64_t	bs_norecord;	/* bufcall returned 0 */
	uint64_t	bs_checks;	/* scans of the waiting lists */
};

extern int ustreams_bufcallstat(struct ustreams_bufcallstat *bsp);

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_USTREAMS_STAT_H */
