/*
 * kmem_alloc, kmem_zalloc, kmem_free: general memory from the budget.
 *
 * kmem memory is STREAMS memory: it comes from the instance's region and
 * counts as in use, so queues, stream heads and records compete with data
 * blocks for the same budget, as they did in the SVR4 STREAMS pool.  It is
 * admitted up to the whole budget (there is no priority); KM_NOSLEEP fails
 * at once when the budget is used up, KM_SLEEP waits for memory to be
 * freed, and may only be used in base context.
 *
 * kmem_free must be given the size that was allocated: SVR5 keeps no size
 * with the memory, and neither does the DDI contract.  ustreams checks it
 * against the allocation's size class and panics on a mismatch, which
 * catches most wrong sizes and frees of foreign pointers.
 */
#include <sys/kmem.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include <sys/ustreams.h>

#include <string.h>

#include "context.h"
#include "mem.h"
#include "where.h"

/* kmem_alloc and kmem_zalloc; caller: where the driver called from. */
static void *
kmem_alloc_common(size_t size, int flag, const void *caller)
{
	char where[UST_WHERE_LEN];
	size_t usable;
	void *p;

	if (size == 0 || !ustreams_booted())
		return (NULL);
	if (flag != KM_SLEEP && flag != KM_NOSLEEP)
		cmn_err(CE_PANIC, "kmem_alloc: bad flag %d (called from %s)",
		    flag, ust_where(caller, where, sizeof (where)));
	if (flag == KM_SLEEP)
		ust_may_sleep("kmem_alloc", caller);
	/*
	 * The budget is charged the size class, not the request: a request
	 * whose class is larger than the whole budget can never be had, and
	 * KM_SLEEP would wait for it forever.
	 */
	if (size > ust_mem_size())
		return (NULL);
	usable = ust_mem_usable(size);
	if (usable > ust_mem_size())
		return (NULL);
	p = ust_mem_get(usable);
	if (p == NULL && flag == KM_SLEEP)
		p = ust_mem_get_sleep(usable, caller);
	if (p != NULL)
		ust_mem_hold((int64_t)usable);
	return (p);
}

/*
 * kmem_alloc - allocate size bytes.  Returns NULL when size is 0, when the
 * instance is not booted, or (KM_NOSLEEP) when the budget is exhausted.
 * KM_SLEEP never returns NULL for a size the budget can hold; it may block
 * and is for base context only.
 */
void *
kmem_alloc(size_t size, int flag)
{
	return (kmem_alloc_common(size, flag, __builtin_return_address(0)));
}

void *
kmem_zalloc(size_t size, int flag)
{
	void *p = kmem_alloc_common(size, flag, __builtin_return_address(0));

	if (p != NULL)
		memset(p, 0, size);
	return (p);
}

/*
 * kmem_free - free memory from kmem_alloc/kmem_zalloc; size must be the
 * size allocated.  Any context; does not block.
 */
void
kmem_free(void *addr, size_t size)
{
	const void *caller = __builtin_return_address(0);
	char where[UST_WHERE_LEN];
	size_t usable;

	if (addr == NULL)
		cmn_err(CE_PANIC, "kmem_free: NULL address (called from %s)",
		    ust_where(caller, where, sizeof (where)));
	if (!ustreams_mem_contains(addr, 1))
		cmn_err(CE_PANIC, "kmem_free: %p is not STREAMS memory (called "
		    "from %s)", addr, ust_where(caller, where, sizeof (where)));
	usable = ust_mem_usable(size);
	if (size == 0 || ust_mem_usable_of(addr) != usable)
		cmn_err(CE_PANIC, "kmem_free: %p: size %zu does not match the "
		    "allocation (%zu bytes) (called from %s)", addr, size,
		    ust_mem_usable_of(addr),
		    ust_where(caller, where, sizeof (where)));
	ust_mem_put(addr, usable);
	ust_mem_hold(-(int64_t)usable);
	ust_mem_released();
}
