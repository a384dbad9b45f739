/*
 * <sys/stropts.h>: what an application uses to talk to a stream -- the
 * ioctl commands, struct strbuf and friends, with SVR4 names and values --
 * and the ustreams calls that stand in for open(2), read(2), write(2),
 * getmsg(2), putmsg(2), ioctl(2), poll(2) and close(2) on a stream of the
 * running instance.
 *
 * The ustreams_ calls return -1 and set errno on failure, as the system
 * calls do.  A stream descriptor is a small non-negative int of the
 * instance's own, not a file descriptor; ustreams_pollfd() gives a real
 * file descriptor for an application's own poll or epoll loop.
 */
#ifndef _SYS_STROPTS_H
#define	_SYS_STROPTS_H

#include <sys/ustreams_types.h>
#include <poll.h>

#ifdef	__cplusplus
extern "C" {
#endif

#define	STR		('S' << 8)
#define	I_NREAD		(STR | 01)
#define	I_PUSH		(STR | 02)
#define	I_POP		(STR | 03)
#define	I_LOOK		(STR | 04)
#define	I_FLUSH		(STR | 05)
#define	I_SRDOPT	(STR | 06)
#define	I_GRDOPT	(STR | 07)
#define	I_STR		(STR | 010)
#define	I_FIND		(STR | 013)
#define	I_SWROPT	(STR | 023)
#define	I_GWROPT	(STR | 024)
#define	I_FLUSHBAND	(STR | 034)
#define	I_SETCLTIME	(STR | 040)
#define	I_GETCLTIME	(STR | 041)
#define	I_CANPUT	(STR | 042)
#define	I_SERROPT	(STR | 043)
#define	I_GERROPT	(STR | 044)
#define	I_PEEK		(STR | 017)
#define	I_SETSIG	(STR | 011)
#define	I_GETSIG	(STR | 012)
#define	I_LINK		(STR | 014)
#define	I_UNLINK	(STR | 015)
#define	I_PLINK		(STR | 026)
#define	I_PUNLINK	(STR | 027)
#define	I_LIST		(STR | 025)
#define	I_CKBAND	(STR | 035)
#define	I_GETBAND	(STR | 036)
#define	I_ATMARK	(STR | 037)

#define	FMNAMESZ	31	/* longest module name */

/* I_FLUSH, M_FLUSH */
#ifndef FLUSHR
#define	FLUSHR		0x01
#define	FLUSHW		0x02
#define	FLUSHRW		0x03
#define	FLUSHBAND	0x04
#endif

/* I_SRDOPT: read modes and what to do with protocol messages */
#define	RNORM		0x000	/* byte stream */
#define	RMSGD		0x001	/* message discard */
#define	RMSGN		0x002	/* message no discard */
#define	RMODEMASK	0x003
#define	RPROTDAT	0x004	/* deliver the control part as data */
#define	RPROTDIS	0x008	/* discard the control part */
#define	RPROTNORM	0x010	/* fail read with EBADMSG (the default) */
#define	RPROTMASK	0x01c

/* I_SWROPT */
#define	SNDZERO		0x001	/* a zero-length write sends a message */
#define	SNDPIPE		0x002	/* (accepted; there are no signals) */

/* I_SERROPT */
#define	RERRNORM	0x001	/* read errors persist (default) */
#define	RERRNONPERSIST	0x002	/* a read error is reported once */
#define	WERRNORM	0x004
#define	WERRNONPERSIST	0x008

/* getmsg/putmsg flags and return bits */
#define	RS_HIPRI	0x01
#define	MSG_HIPRI	0x01
#define	MSG_ANY		0x02
#define	MSG_BAND	0x04
#define	MORECTL		1
#define	MOREDATA	2

#define	INFTIM		(-1)

struct strbuf {
	int		maxlen;		/* room in buf */
	int		len;		/* bytes in buf; -1: no such part */
	char		*buf;
};

struct strioctl {
	int		ic_cmd;		/* command for the module or driver */
	int		ic_timout;	/* seconds; 0: 15 s; -1: forever */
	int		ic_len;		/* bytes of data in, then out */
	char		*ic_dp;		/* the data */
};

/* I_PEEK: the first message, left where it is. */
struct strpeek {
	struct strbuf	ctlbuf;		/* its control part */
	struct strbuf	databuf;	/* its data part */
	long		flags;		/* in: RS_HIPRI or 0; out: its class */
};

/* I_LIST: the names of the modules and the driver, top down. */
struct str_mlist {
	char		l_name[FMNAMESZ + 1];
};

struct str_list {
	int		sl_nmods;	/* in: room; out: names given */
	struct str_mlist *sl_modlist;
};

/* I_SETSIG, I_GETSIG: the events that send the process SIGPOLL */
#define	S_INPUT		0x0001	/* a message (not high priority) arrived
				   on an empty read queue */
#define	S_HIPRI		0x0002	/* a high-priority message arrived */
#define	S_OUTPUT	0x0004	/* the write queue has room again */
#define	S_MSG		0x0008	/* an M_SIG of SIGPOLL reached the front */
#define	S_ERROR		0x0010	/* an M_ERROR arrived */
#define	S_HANGUP	0x0020	/* an M_HANGUP arrived */
#define	S_RDNORM	0x0040	/* an ordinary message arrived (as S_INPUT) */
#define	S_WRNORM	S_OUTPUT
#define	S_RDBAND	0x0080	/* a banded message arrived (as S_INPUT) */
#define	S_WRBAND	0x0100	/* banded writes have room again */
#define	S_BANDURG	0x0200	/* with S_RDBAND: SIGURG, not SIGPOLL */

/* I_ATMARK */
#define	ANYMARK		0x01	/* the first message is marked */
#define	LASTMARK	0x02	/* ... and is the last marked one */

struct bandinfo {
	unsigned char	bi_pri;
	int		bi_flag;	/* FLUSHR, FLUSHW, FLUSHRW */
};

/* The stream head, for applications (streams/stcalls.c). */
extern int ustreams_open(const char *name, int oflag);
extern int ustreams_close(int sd);
extern ssize_t ustreams_read(int sd, void *buf, size_t nbytes);
extern ssize_t ustreams_write(int sd, const void *buf, size_t nbytes);
extern int ustreams_getmsg(int sd, struct strbuf *ctl, struct strbuf *data,
    int *flagsp);
extern int ustreams_getpmsg(int sd, struct strbuf *ctl,
    struct strbuf *data, int *bandp, int *flagsp);
extern int ustreams_putmsg(int sd, const struct strbuf *ctl,
    const struct strbuf *data, int flags);
extern int ustreams_putpmsg(int sd, const struct strbuf *ctl,
    const struct strbuf *data, int band, int flags);
extern int ustreams_ioctl(int sd, int cmd, ...);
extern int ustreams_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);
extern int ustreams_pollfd(int sd);

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_STROPTS_H */
