/*
 * The ustreams instance: configuration, boot and shutdown, the execution
 * contexts, the executives, the log, and the memory statistics.
 *
 * Nothing here is SVR4/SVR5 DDI; every name carries the ustreams_ prefix.
 * An application (or a test) boots one instance per process, opens streams
 * on it, and shuts it down; modules and drivers never call these, with the
 * exception of ustreams_context() in assertions.
 */
#ifndef _SYS_USTREAMS_H
#define	_SYS_USTREAMS_H

#include <sys/ustreams_types.h>

#ifdef	__cplusplus
extern "C" {
#endif

/* Which executive runs deferred work, callouts and interrupts. */
enum ustreams_exec {
	USTREAMS_EXEC_SIM = 0,		/* one thread, virtual clock, seeded */
	USTREAMS_EXEC_THREADS = 1	/* pthreads, real clock */
};

#define	USTREAMS_MEM_MIN	(256u * 1024)	/* smallest budget accepted */
#define	USTREAMS_MEM_DEFAULT	(16u * 1024 * 1024)
#define	USTREAMS_NCPU_MAX	64

struct ustreams_config {
	size_t		uc_memsize;	/* STREAMS memory budget, bytes */
	unsigned	uc_lo_pct;	/* BPRI_LO admitted up to this % */
	unsigned	uc_med_pct;	/* BPRI_MED admitted up to this % */
	enum ustreams_exec uc_exec;	/* executive */
	unsigned	uc_ncpus;	/* service threads ("CPUs"), threads */
	uint64_t	uc_seed;	/* RNG seed (and sim event order) */
};

extern void ustreams_config_init(struct ustreams_config *cfg);
extern int ustreams_boot(const struct ustreams_config *cfg);
extern int ustreams_shutdown(void);
extern bool ustreams_booted(void);

/* Execution contexts: a property of the running thread. */
enum ustreams_ctx {
	USTREAMS_CTX_BASE = 0,		/* application calls; may sleep */
	USTREAMS_CTX_SERVICE = 1,	/* service procedures, bufcalls */
	USTREAMS_CTX_INTR = 2,		/* interrupt handlers; never sleep */
	USTREAMS_CTX_CALLOUT = 3	/* timeout handlers */
};

extern enum ustreams_ctx ustreams_context(void);
extern const char *ustreams_context_name(enum ustreams_ctx ctx);

/* Clock (ns since boot: virtual under sim) and the instance's RNG. */
extern uint64_t ustreams_now_ns(void);
extern uint64_t ustreams_random(void);

/*
 * The sim executive: events run only when the application asks.
 * ustreams_sim_run_until(t) runs every event due at or before virtual time
 * t (ns since boot) and leaves the clock at t (or where it was, if
 * drv_usecwait already moved it past t: the clock never goes back);
 * ustreams_sim_run_idle() runs until no event is left.  Both return the number of events run, or -1
 * when the instance is not running the sim executive.
 */
extern long ustreams_sim_run_until(uint64_t t_ns);
extern long ustreams_sim_run_idle(void);
extern long ustreams_sim_pending(void);

/*
 * The log.  cmn_err output goes to stderr unless a hook is set; a test sets
 * one to capture messages.  The hook gets the text without its level prefix
 * and, but for CE_CONT text (passed as written), without a final newline.  A panic calls the panic hook, which must not
 * return (a test longjmps out of it); without one, or if it returns, the
 * process aborts.
 */
typedef void ustreams_log_fn(int level, const char *msg, void *arg);
typedef void ustreams_panic_fn(const char *msg, void *arg);
extern void ustreams_log_hook(ustreams_log_fn *fn, void *arg);
extern void ustreams_panic_hook(ustreams_panic_fn *fn, void *arg);

/*
 * Drivers and modules, registered by name: the counterpart of the cdevsw
 * and fmodsw tables.  The table is the process's, not an instance's:
 * register before or after boot.  USTREAMS_MTSAFE declares that the put
 * and service procedures may run concurrently (they do their own locking);
 * without it, the procedures of one queue pair run one at a time.
 * The read side's qinit must have an open routine, both sides a put
 * procedure.  Returns 0, EEXIST, ENOSPC (table full), EINVAL, or, from
 * unregister, ENOENT (no such name) and EBUSY (something open).
 */
struct streamtab;
#define	USTREAMS_MTSAFE		0x01
#define	USTREAMS_NMODSW		64
extern int ustreams_register_driver(const char *name, struct streamtab *tab,
    int flags);
extern int ustreams_register_module(const char *name, struct streamtab *tab,
    int flags);
extern int ustreams_unregister(const char *name);

/* STREAMS memory, as the budget sees it. */
struct ustreams_memstat {
	size_t		ms_size;	/* the budget */
	size_t		ms_inuse;	/* bytes held by STREAMS objects */
	size_t		ms_maxinuse;	/* high-water mark of ms_inuse */
	size_t		ms_cached;	/* bytes in per-CPU caches */
	size_t		ms_overhead;	/* framework tables, outside the budget */
	size_t		ms_lo_limit;	/* BPRI_LO admitted up to this */
	size_t		ms_med_limit;	/* BPRI_MED admitted up to this */
	uint64_t	ms_fail;	/* requests refused by the budget */
	const void	*ms_region;	/* the mapped region */
	size_t		ms_region_size;
	bool		ms_below4g;	/* region lies below 4 GB */
};

extern int ustreams_memstat(struct ustreams_memstat *msp);
extern bool ustreams_mem_contains(const void *p, size_t len);

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_USTREAMS_H */
