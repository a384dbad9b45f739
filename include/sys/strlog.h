/*
 * <sys/strlog.h>: STREAMS error and trace logging -- strlog(D3) and what
 * the log(7) driver hands its readers.
 *
 * A driver or module calls strlog; the message goes to the streams that
 * have asked for it by opening the "log" driver and sending it I_ERRLOG
 * (the error logger, SL_ERROR messages), I_TRCLOG (the trace logger,
 * SL_TRACE messages that match its struct trace_ids) or I_CONSLOG (the
 * console logger, SL_CONSOLE messages), each with I_STR.  A logger reads
 * each message with getmsg: a struct log_ctl as the control part and the
 * formatted text, NUL-terminated, as the data part.
 */
#ifndef _SYS_STRLOG_H
#define	_SYS_STRLOG_H

#include <sys/ustreams_types.h>

#ifdef	__cplusplus
extern "C" {
#endif

/* strlog flags, and log_ctl.flags (SVR4 values). */
#define	SL_FATAL	0x01	/* a fatal error */
#define	SL_NOTIFY	0x02	/* the administrator should be told */
#define	SL_ERROR	0x04	/* to the error logger */
#define	SL_TRACE	0x08	/* to the trace logger */
#define	SL_CONSOLE	0x10	/* to the console logger, or the console */
#define	SL_WARN		0x20	/* a warning */
#define	SL_NOTE		0x40	/* a notice */

/* The control part of every message a logger reads. */
struct log_ctl {
	short		mid;		/* module ID of the sender */
	short		sid;		/* its sub-ID: minor, instance */
	char		level;		/* its trace level */
	short		flags;		/* SL_* as given to strlog */
	clock_t		ltime;		/* lbolt when logged */
	time_t		ttime;		/* time(2) when logged */
	int		seq_no;		/* per logger type, from 0 */
	int		pri;		/* syslog(3) priority: LOG_KERN|... */
};

/*
 * What a trace logger selects (I_TRCLOG's argument is an array of them):
 * messages from module ti_mid, sub-ID ti_sid, at level ti_level or
 * below.  -1 in a field selects every value.
 */
struct trace_ids {
	short		ti_mid;
	short		ti_sid;
	char		ti_level;
};

/* ic_cmd of the I_STR ioctls of the log driver. */
#define	I_TRCLOG	1	/* become the trace logger */
#define	I_ERRLOG	2	/* become the error logger */
#define	I_CONSLOG	3	/* become the console logger */

#define	LOGMSGSZ	1024	/* longest text, with its NUL */
#define	NLOGARGS	20	/* SVR5's limit on arguments; not enforced */

/*
 * strlog - log a message: 1 when some logger (or the console) took it,
 * 0 when none wanted it, its queue was full or memory was short.  Any
 * context.
 */
extern int strlog(short mid, short sid, char level, ushort_t flags,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_STRLOG_H */
