/*
 * Admission: may an allocation at this priority have memory now?
 *
 * The rule of the SVR5 allocb page, with numbers: memory in use after the
 * allocation must stay within
 *
 *	BPRI_LO		the LO threshold (uc_lo_pct of the budget, default 80%)
 *	BPRI_MED	the MED threshold (uc_med_pct, default 90%)
 *	BPRI_HI		the whole budget
 *
 * so that ordinary data (LO) gives way first, control messages (MED) next,
 * and what must succeed (HI) can use the last of the memory.  A BPRI_LO
 * allocation "may fail even though the requested buffer size is
 * available": that is this rule at work.  An invalid priority is treated as
 * BPRI_LO.  "In use" is what ddi/mem.h calls held: bytes of objects handed
 * out, not bytes parked in caches.
 *
 * bufcall uses the same rule to decide when a waiter is due.
 */
#ifndef _STREAMS_ADMISSION_H
#define	_STREAMS_ADMISSION_H

#include <sys/stream.h>
#include "../ddi/mem.h"

_Static_assert(BPRI_LO == MEM_LIM_LO && BPRI_MED == MEM_LIM_MED &&
	BPRI_HI == MEM_LIM_HI, "ust_mem_hot.mh_limit is indexed by priority");

/* Memory in use may reach this at pri; an invalid pri counts as BPRI_LO. */
static inline int64_t
str_admit_limit(uint_t pri)
{
	return (ust_mem_hot.mh_limit[pri <= BPRI_HI ? pri : 0]);
}

/*
 * True when footprint more bytes at pri would be admitted, held in use.
 * held may be negative for a moment (a CPU's unfolded frees of blocks
 * another CPU allocated): it is then as good as 0.
 */
static inline bool
str_admit(uint_t pri, size_t footprint, int64_t held)
{
	if (held < 0)
		held = 0;
	return (held + (int64_t)footprint <= str_admit_limit(pri));
}

#endif	/* _STREAMS_ADMISSION_H */
