/*
 * Execution contexts.
 *
 * STREAMS code runs in one of four contexts.  Base context is an
 * application's call into the stream head: it may sleep.  Service context
 * runs service procedures and bufcall callbacks; interrupt context runs a
 * device's interrupt handler; callout context runs timeout handlers.  None
 * of the last three may sleep: in a kernel they borrow whatever thread was
 * interrupted or run on a shared worker, and blocking would stall it.
 *
 * Here the context is a thread-local variable set by the executive around
 * each handler.  A DDI function that may sleep calls ust_may_sleep() first,
 * so that the mistake is reported at once, with the function's name, rather
 * than showing up as a hang under load.
 */
#include <sys/ustreams.h>
#include <sys/cmn_err.h>
#include <sys/ddi.h>

#include "context.h"
#include "where.h"

__thread enum ustreams_ctx ust_cur_ctx
    __attribute__((tls_model("initial-exec"))) = USTREAMS_CTX_BASE;

static const char *const ctx_names[] = {
	[USTREAMS_CTX_BASE] = "base",
	[USTREAMS_CTX_SERVICE] = "service",
	[USTREAMS_CTX_INTR] = "interrupt",
	[USTREAMS_CTX_CALLOUT] = "callout",
};

/*
 * ustreams_context - the context the calling thread is running in.
 * Any context; does not block.
 */
enum ustreams_ctx
ustreams_context(void)
{
	return (ust_cur_ctx);
}

const char *
ustreams_context_name(enum ustreams_ctx ctx)
{
	if ((unsigned)ctx >= sizeof (ctx_names) / sizeof (ctx_names[0]))
		return ("unknown");
	return (ctx_names[ctx]);
}

/*
 * servicing_interrupt - non-zero when called from an interrupt handler.
 * Any context; does not block.
 */
int
servicing_interrupt(void)
{
	return (ust_cur_ctx == USTREAMS_CTX_INTR);
}

/* ust_may_sleep found the caller outside base context. */
__attribute__((noinline, cold)) void
ust_may_sleep_panic(const char *func, const void *caller)
{
	char where[UST_WHERE_LEN];

	cmn_err(CE_PANIC, "%s: may sleep, called from %s context by %s",
	    func, ustreams_context_name(ust_cur_ctx),
	    ust_where(caller, where, sizeof (where)));
}
