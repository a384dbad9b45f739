/*
 * <sys/ustreams_drivers.h>: the drivers and modules that come with
 * ustreams, their ioctl commands, and ustreams_register_builtins().
 *
 * Drivers (opened with ustreams_open):
 *   "echo"  sends every data message back up (echo(7))
 *   "null"  swallows every write, never sends anything up (null(7))
 *   "loop"  the SVR4 loop-around driver: two streams joined (loop(7))
 *   "log"   STREAMS error and trace logging, strlog's readers (log(7),
 *           <sys/strlog.h>)
 * Modules (pushed with I_PUSH):
 *   "passthru"  passes everything, counting messages (passthru(7))
 *   "slow"      a slow consumer on the write side (slow(7))
 *   "errmod"    raises M_ERROR, M_HANGUP, M_UNHANGUP on command (errmod(7))
 *
 * The ioctls below are sent with I_STR (struct strioctl); each one's
 * argument is what ic_dp points at, ic_len bytes of it.
 */
#ifndef _SYS_USTREAMS_DRIVERS_H
#define	_SYS_USTREAMS_DRIVERS_H

#include <sys/ustreams_types.h>

#ifdef	__cplusplus
extern "C" {
#endif

struct streamtab;

/* The switch table entries, SVR4 style (xxinfo). */
extern struct streamtab echoinfo;
extern struct streamtab nullinfo;
extern struct streamtab loopinfo;
extern struct streamtab loginfo;
extern struct streamtab passthruinfo;
extern struct streamtab slowinfo;
extern struct streamtab errmodinfo;

/*
 * Register all seven under their names ("echo", "null", "loop", "log" as
 * drivers; "passthru", "slow", "errmod" as modules).  Idempotent: names already
 * registered (EEXIST) are not an error.  Returns 0 or the first other
 * error of ustreams_register_driver/ustreams_register_module.
 */
extern int ustreams_register_builtins(void);

/*
 * loop(7).
 * LOOP_SET: connect this stream to the open loop minor *(int *)ic_dp
 *   (ic_len sizeof (int)).  ENXIO: no such minor open; EBUSY: either
 *   stream is already connected; EINVAL: a bad argument, or this stream's
 *   own minor.
 * LOOP_GETMINOR: the ioctl returns this stream's minor number.
 */
#define	LOOP_IOC		('l' << 8)
#define	LOOP_SET		(LOOP_IOC | 1)
#define	LOOP_GETMINOR		(LOOP_IOC | 2)
#define	LOOP_MAXMINOR		64	/* minors 0..63 */

/*
 * null(7).
 * NULL_GETSTATS: what this stream has swallowed, into a struct
 *   null_stats (ic_len sizeof (struct null_stats)).
 */
#define	NULL_IOC		('n' << 8)
#define	NULL_GETSTATS		(NULL_IOC | 1)

struct null_stats {
	uint64_t	ns_msgs;	/* data messages discarded */
	uint64_t	ns_bytes;	/* their bytes, control and data */
};

/*
 * passthru(7).
 * PASSTHRU_GETSTATS: this instance's counts, into a struct
 *   passthru_stats (ic_len sizeof (struct passthru_stats)).
 */
#define	PASSTHRU_IOC		('p' << 8)
#define	PASSTHRU_GETSTATS	(PASSTHRU_IOC | 1)

struct passthru_stats {
	uint64_t	ps_down_msgs;	/* messages passed down (write side) */
	uint64_t	ps_down_bytes;	/* their bytes */
	uint64_t	ps_up_msgs;	/* messages passed up (read side) */
	uint64_t	ps_up_bytes;
};

/*
 * slow(7).
 * SLOW_SETCOST: the time each message costs the write side's service
 *   procedure, *(int *)ic_dp microseconds (0 to SLOW_MAXCOST); the ioctl
 *   returns the previous cost.
 */
#define	SLOW_IOC		('s' << 8)
#define	SLOW_SETCOST		(SLOW_IOC | 1)
#define	SLOW_MAXCOST		1000000	/* one second */
#define	SLOW_HIWAT		4096	/* the write queue's water marks */
#define	SLOW_LOWAT		1024

/*
 * errmod(7).
 * ERRMOD_ERROR: send an M_ERROR upstream whose data is the ioctl's 1 or
 *   2 bytes (one byte: the read and write error; two: read, then write;
 *   NOERROR leaves a side alone, 0 clears it).
 * ERRMOD_HANGUP, ERRMOD_UNHANGUP: send an M_HANGUP or M_UNHANGUP upstream.
 */
#define	ERRMOD_IOC		('e' << 8)
#define	ERRMOD_ERROR		(ERRMOD_IOC | 1)
#define	ERRMOD_HANGUP		(ERRMOD_IOC | 2)
#define	ERRMOD_UNHANGUP		(ERRMOD_IOC | 3)

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_USTREAMS_DRIVERS_H */
