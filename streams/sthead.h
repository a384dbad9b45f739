/*
 * The stream head (private to streams/).
 *
 * A stream is a stream head queue pair at the top, modules pushed below
 * it, and a driver queue pair at the bottom.  struct stdata is the head's
 * state: what applications wait for, the errors and options that
 * M_ERROR, M_HANGUP and M_SETOPTS set, and the ioctl in progress.
 *
 * Locking: sd_lock (a basic lock, so that sleeping on sd_sv works under
 * both executives) protects every sd_ field but sd_plumb's; it is taken
 * before a queue's qu_lock, never after.  sd_plumb serialises push, pop
 * and close, which may sleep (grace periods, waiting for service
 * procedures).  sd_freeze is held by a thread that has frozen the stream
 * (freezestr), from before it takes the stream's queue locks until after
 * it drops them; push, pop and close take it, after sd_plumb, only to
 * change q_next, so that the queues a freezer locked are the ones it
 * unlocks.  Order: sd_plumb, sd_freeze, sd_lock, qu_lock.
 */
#ifndef _STREAMS_STHEAD_H
#define	_STREAMS_STHEAD_H

#include <sys/stream.h>
#include <sys/stropts.h>
#include <sys/ksynch.h>

#include "stream_impl.h"

#define	USTREAMS_NSTREAMS	256
#define	STRCLTIME_DEF		15000	/* ms: sd_closetime at open */

/* sd_flag */
#define	STRHUP		0x0001	/* M_HANGUP received */
#define	STRIOCWAIT	0x0002	/* an I_STR is waiting for its reply */
#define	STRCLOSING	0x0004
#define	STRMREAD	0x0008	/* SO_MREADON: reads send M_READ */

struct stdata {
	int		sd_index;	/* the stream descriptor; set once */
	struct qpair	*sd_head;	/* head pair; set once */
	struct qpair	*sd_drv;	/* driver pair; set once */
	lock_t		*sd_lock;
	sv_t		*sd_sv;		/* state changed: data, room, reply */
	int		sd_nsleep;	/* threads in sd_sleep: a change
					   with none needs no signal */
	pthread_mutex_t	sd_plumb;	/* push, pop, close */
	pthread_mutex_t	sd_freeze;	/* held by the freezer (freeze.c) */
	_Atomic(const void *) sd_freezer; /* its token, or NULL */
	uint_t		sd_flag;
	int		sd_oflag;	/* O_NONBLOCK, ... */
	int		sd_rerror;	/* read-side error, 0: none */
	int		sd_werror;	/* write-side error */
	int		sd_erropt;	/* RERRNONPERSIST | WERRNONPERSIST */
	int		sd_rdopt;	/* RNORM | RPROTNORM ... */
	int		sd_wropt;	/* SNDZERO ... */
	int		sd_closetime;	/* ms close waits for a queue to
					   drain (I_SETCLTIME) */
	ushort_t	sd_wroff;	/* headroom in written blocks */
	uint_t		sd_iocid;	/* last ioctl id */
	mblk_t		*sd_iocreply;	/* the reply to the waiting ioctl */
	int		sd_pushcnt;
	dev_t		sd_dev;
	int		sd_efd;		/* eventfd for the application's poll */
	bool		sd_efd_set;
	int		sd_sigflags;	/* I_SETSIG events; 0: none asked */
	int		sd_nsigmsg;	/* M_SIGs queued (at most; a flush
					   may have taken some) */
	_Atomic bool	sd_linked;	/* below a mux (mux.c: changed under
					   mux_lock, read anywhere) */
	bool		sd_lclosed;	/* ... and its descriptor closed;
					   mux_lock */
};

extern struct stdata *sd_lookup(int sd);
extern void sthead_wake(struct stdata *sd);
extern void sthead_efd_sync(struct stdata *sd);
extern void sthead_sendsig(struct stdata *sd, int events, bool band);
extern void sthead_signal(struct stdata *sd, int sig);
extern void sthead_front_signals(struct stdata *sd);
extern struct streamtab sthead_info;

/* stream.c */
extern int stream_push(struct stdata *sd, struct modsw *sw);
extern int stream_pop(struct stdata *sd);
extern void stream_unplumb(struct stdata *sd);

/* stcalls.c, for mux.c: an I_STR round trip; a close. */
extern int sthead_strioctl(struct stdata *sd, struct strioctl *sio);
extern void sthead_close(struct stdata *sd);

/* mux.c */
extern int mux_link(struct stdata *upper, int lowersd, bool persistent);
extern int mux_unlink(struct stdata *upper, int muxid, bool persistent);
extern void mux_close_upper(struct stdata *upper);
extern bool mux_close_lower(struct stdata *lower);
extern void mux_shutdown(void);

/* freeze.c: q_next of the stream's queues is changed only between these. */
extern void stream_relink_enter(struct stdata *sd);
extern void stream_relink_exit(struct stdata *sd);

#endif	/* _STREAMS_STHEAD_H */
