/*
 * bufcall (private side): what the buffer caches tell it.
 */
#ifndef _STREAMS_BUFCALL_IMPL_H
#define	_STREAMS_BUFCALL_IMPL_H

/*
 * Memory was freed and someone waits (strcache_waiters is set): post the
 * callbacks that are now due.  Any context; does not block (but for the
 * bufcall lock); never runs a callback itself.
 */
extern void bufcall_memfree(void);

#endif	/* _STREAMS_BUFCALL_IMPL_H */
