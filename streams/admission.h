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

static inline size_t
str_admit_limit(uint_t pri)
{
	switch (pri) {
	case BPRI_HI:
		return (ust_mem_size());
	case BPRI_MED:
		return (ust_mem_med_limit());
	default:
		return (ust_mem_lo_limit());
	}
}

/* True when footprint more bytes at pri would be admitted, held in use. */
static inline bool
str_admit(uint_t pri, size_t footprint, int64_t held)
{
	size_t limit = str_admit_limit(pri);

	if (held < 0)
		held = 0;
	return ((size_t)held <= limit && footprint <= limit - (size_t)held);
}

#endif	/* _STREAMS_ADMISSION_H */
