/*
 * Execution contexts (private side).
 *
 * The context is a per-thread variable.  The executive sets it around every
 * handler it runs; threads the instance did not create are in base context.
 * ust_ctx_enter() returns the previous context for ust_ctx_leave(), so
 * handlers nest correctly under the sim executive, which runs them all on
 * the application's thread.
 */
#ifndef _DDI_CONTEXT_H
#define	_DDI_CONTEXT_H

#include <sys/ustreams.h>

/*
 * initial-exec: one %fs-relative load, also in the shared library, where
 * the default model would call __tls_get_addr on every test.
 */
extern __thread enum ustreams_ctx ust_cur_ctx
    __attribute__((tls_model("initial-exec")));

static inline enum ustreams_ctx
ust_ctx_enter(enum ustreams_ctx ctx)
{
	enum ustreams_ctx old = ust_cur_ctx;

	ust_cur_ctx = ctx;
	return (old);
}

static inline void
ust_ctx_leave(enum ustreams_ctx old)
{
	ust_cur_ctx = old;
}

/*
 * Called first by every DDI function that may sleep: panics, naming the
 * function and the code that called it (caller: the function's return
 * address), when the caller is in any context but base, instead of
 * letting an interrupt handler hang.  The test is inline, since every
 * stream-head call makes it; the report is not.
 */
extern void ust_may_sleep_panic(const char *func, const void *caller);

static inline void
ust_may_sleep(const char *func, const void *caller)
{
	if (__builtin_expect(ust_cur_ctx != USTREAMS_CTX_BASE, 0))
		ust_may_sleep_panic(func, caller);
}

#endif	/* _DDI_CONTEXT_H */
