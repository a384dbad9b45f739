/*
 * kmem_alloc(D3) and friends: general memory out of the instance's STREAMS
 * memory budget.
 */
#ifndef _SYS_KMEM_H
#define	_SYS_KMEM_H

#include <sys/ustreams_types.h>

#ifdef	__cplusplus
extern "C" {
#endif

#define	KM_SLEEP	0	/* wait for memory; base context only */
#define	KM_NOSLEEP	1	/* fail at once when memory is short */

extern void *kmem_alloc(size_t size, int flag);
extern void *kmem_zalloc(size_t size, int flag);
extern void kmem_free(void *addr, size_t size);

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_KMEM_H */
