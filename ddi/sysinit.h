/*
 * Subsystem start-up and shut-down, as a linker set.
 *
 * Each subsystem of an instance (the memory region, the executive, the
 * buffer caches, bufcall, ...) declares itself with USTREAMS_SYSINIT in its
 * own file.  The declarations land in one ELF section; ustreams_boot() runs
 * every init in ascending order and ustreams_shutdown() every fini in
 * descending order.  This keeps the dependency arrow pointing down: ddi/
 * boots the layers above it without naming them, and a subsystem is brought
 * up exactly when it is linked in.
 */
#ifndef _DDI_SYSINIT_H
#define	_DDI_SYSINIT_H

struct ustreams_config;

struct ust_sysinit {
	const char	*si_name;	/* for error messages */
	unsigned	si_order;	/* lower starts first, stops last */
	/* Returns 0 or an errno; on failure, earlier subsystems are undone. */
	int		(*si_init)(const struct ustreams_config *);
	void		(*si_fini)(void);
};

/* Start-up order of the subsystems. */
#define	SI_ORDER_LOG		100
#define	SI_ORDER_MEM		200
#define	SI_ORDER_EXEC		300
#define	SI_ORDER_TIMEOUT	400
#define	SI_ORDER_STRCACHE	500
#define	SI_ORDER_BUFCALL	600
#define	SI_ORDER_STREAMS	700
#define	SI_ORDER_DRIVERS	800

#define	USTREAMS_SYSINIT(name, order, init, fini)			\
	static const struct ust_sysinit ust_sysinit_##name = {		\
		#name, (order), (init), (fini) };			\
	static const struct ust_sysinit *ust_sysinit_ptr_##name		\
	    __attribute__((section("ust_sysinit"), used)) =		\
	    &ust_sysinit_##name

#endif	/* _DDI_SYSINIT_H */
