/*
 * <sys/stream.h>: STREAMS messages, and (as they land) queues and the
 * module/driver switch.  SVR4 names, values and field meanings throughout,
 * so that a module written for SVR4 or SVR5 compiles unchanged.
 *
 * Fields whose names carry a "u" after the prefix (b_ustate, db_uclass,
 * ...) are ustreams' own: they sit in what the SVR4 structures called
 * padding or filler, and modules must not touch them.
 */
#ifndef _SYS_STREAM_H
#define	_SYS_STREAM_H

#include <sys/ustreams_types.h>

#ifdef	__cplusplus
extern "C" {
#endif

/*
 * The free routine of an esballoc'ed or desballoc'ed block.
 */
typedef struct free_rtn {
	void	(*free_func)(void *);	/* called when the last ref goes */
	void	*free_arg;		/* its argument */
} frtn_t;

/*
 * A data block: the buffer and what all message blocks sharing it agree
 * on.  db_ref counts the message blocks pointing to it (and, after a
 * pullupmsg, the block's own header while that header points elsewhere,
 * but for an esballoc block, whose free routine runs when the last block
 * naming its buffer goes);
 * it changes atomically.  db_base..db_lim is the buffer; it never moves.
 */
typedef struct datab {
	frtn_t		*db_frtnp;	/* esballoc free routine, or NULL */
	unsigned char	*db_base;	/* first byte of the buffer */
	unsigned char	*db_lim;	/* last byte of the buffer + 1 */
	unsigned char	db_ref;		/* message blocks referencing it */
	unsigned char	db_type;	/* message type: M_DATA, ... */
	unsigned char	db_uclass;	/* ustreams: size class */
	unsigned char	db_ustate;	/* ustreams: allocated or free */
	uint32_t	db_usize;	/* ustreams: bytes it occupies */
	void		*db_ufreer;	/* ustreams: where last freed */
	uintptr_t	db_upad[3];
} dblk_t;

/*
 * A message block: a window (b_rptr..b_wptr) on a data block.  b_cont
 * links the blocks of one message; b_next and b_prev link messages on a
 * queue.  The owner of a message may change every public field but
 * b_datap.
 */
typedef struct msgb {
	struct msgb	*b_next;	/* next message on queue */
	struct msgb	*b_prev;	/* previous message on queue */
	struct msgb	*b_cont;	/* next block of this message */
	unsigned char	*b_rptr;	/* first unread byte */
	unsigned char	*b_wptr;	/* first unwritten byte */
	struct datab	*b_datap;	/* the data block */
	unsigned char	b_band;		/* message priority band */
	unsigned char	b_ustate;	/* ustreams: allocated or free */
	unsigned short	b_flag;		/* MSGMARK, ... */
	uint32_t	b_uflags;	/* ustreams: MB_U* */
	void		*b_ufreer;	/* ustreams: where last freed */
} mblk_t;

/* b_flag */
#define	MSGMARK		0x01	/* last byte of message is "marked" */
#define	MSGNOLOOP	0x02	/* do not loop message to write side */
#define	MSGDELIM	0x04	/* message is delimited */
#define	MSGNOGET	0x08	/* (SVR4; not acted on by ustreams) */

/* Message types (db_type).  QPCTL and above are high priority. */
#define	M_DATA		0x00	/* regular data */
#define	M_PROTO		0x01	/* protocol control */
#define	M_BREAK		0x08	/* line break */
#define	M_PASSFP	0x09	/* pass file pointer */
#define	M_EVENT		0x0a	/* post an event to an event queue */
#define	M_SIG		0x0b	/* generate process signal */
#define	M_DELAY		0x0c	/* real-time xmit delay (1 param) */
#define	M_CTL		0x0d	/* device-specific control message */
#define	M_IOCTL		0x0e	/* ioctl; set/get params */
#define	M_SETOPTS	0x10	/* set various stream head options */
#define	M_RSE		0x11	/* reserved for RSE use only */
#define	M_TRAIL		0x12	/* trailer */

#define	QPCTL		0x80	/* priority control message boundary */

#define	M_IOCACK	0x81	/* acknowledge ioctl */
#define	M_IOCNAK	0x82	/* negative ioctl acknowledge */
#define	M_PCPROTO	0x83	/* priority proto message */
#define	M_PCSIG		0x84	/* generate process signal */
#define	M_READ		0x85	/* generate read notification */
#define	M_FLUSH		0x86	/* flush your queues */
#define	M_STOP		0x87	/* stop transmission immediately */
#define	M_START		0x88	/* restart transmission after stop */
#define	M_HANGUP	0x89	/* line disconnect */
#define	M_ERROR		0x8a	/* fatal error used to set u.u_error */
#define	M_COPYIN	0x8b	/* request to copyin data */
#define	M_COPYOUT	0x8c	/* request to copyout data */
#define	M_IOCDATA	0x8d	/* response to M_COPYIN and M_COPYOUT */
#define	M_PCRSE		0x8e	/* reserved for RSE use only */
#define	M_STOPI		0x8f	/* stop reception immediately */
#define	M_STARTI	0x90	/* restart reception after stop */
#define	M_PCEVENT	0x91	/* post an event to an event queue */
#define	M_UNHANGUP	0x92	/* line reconnect */

/* Buffer allocation priorities. */
#define	BPRI_LO		1
#define	BPRI_MED	2
#define	BPRI_HI		3

/* The most message blocks that may share one data block. */
#define	DBLK_REFMAX	255

/* True for the message types that carry data: M_DATA, M_PROTO, ... */
#define	datamsg(type) \
	((type) == M_DATA || (type) == M_PROTO || (type) == M_PCPROTO || \
	    (type) == M_DELAY)

/*
 * True for the high-priority message types (QPCTL and above), which
 * flow control does not hold back.  type is evaluated once.
 */
#define	pcmsg(type)	((unsigned char)(type) >= QPCTL)

/*
 * Physical requirements for allocb_physreq (SVR5 physreq(D4)).  The
 * region ustreams hands out is "physical" memory for the simulated devices:
 * addresses are what a device model sees.
 */
typedef uint64_t paddr_t;

typedef struct physreq {
	paddr_t		phys_align;	/* alignment of the buffer (2^n) */
	paddr_t		phys_boundary;	/* must not cross (2^n), 0: none */
	uchar_t		phys_dmasize;	/* address bits the DMA can reach */
	uchar_t		phys_max_scgth;	/* scatter/gather segments, 0: any */
	uchar_t		phys_flags;	/* PREQ_PHYSCONTIG */
	uchar_t		phys_uprepped;	/* ustreams: physreq_prep done */
	paddr_t		phys_ualign;	/* ustreams: as physreq_prep */
	paddr_t		phys_uboundary;	/*   accepted them */
} physreq_t;

#define	PREQ_PHYSCONTIG	0x01	/* physically contiguous */

/*
 * Queues.  A module or driver instance is a pair of queues, read side
 * first: WR(q) is RD(q) + 1.  The framework allocates them; a module reads
 * and writes the fields below as SVR4 allows (q_ptr is its own; q_hiwat,
 * q_lowat, q_minpsz, q_maxpsz it may tune, or through strqset), and must
 * not touch the fields marked "u".  q_next is read by putnext under RCU
 * and written only by push and pop.
 */
typedef struct queue queue_t;

/* Credentials, as passed to open and close and carried in M_IOCTL. */
typedef struct cred {
	uid_t		cr_uid;
	gid_t		cr_gid;
} cred_t;

struct module_info {
	ushort_t	mi_idnum;	/* module id number */
	char		*mi_idname;	/* module name */
	ssize_t		mi_minpsz;	/* min packet size accepted */
	ssize_t		mi_maxpsz;	/* max packet size accepted */
	size_t		mi_hiwat;	/* high water mark */
	size_t		mi_lowat;	/* low water mark */
};

struct module_stat {
	long		ms_pcnt;	/* put procedure calls */
	long		ms_scnt;	/* service procedure calls */
	long		ms_ocnt;	/* opens */
	long		ms_ccnt;	/* closes */
	long		ms_acnt;	/* admin calls */
	char		*ms_xptr;
	short		ms_xsize;
	uint_t		ms_flags;
};

struct qinit {
	int	(*qi_putp)(queue_t *, mblk_t *);	/* put procedure */
	int	(*qi_srvp)(queue_t *);			/* service procedure */
	int	(*qi_qopen)(queue_t *, dev_t *, int, int, cred_t *);
	int	(*qi_qclose)(queue_t *, int, cred_t *);
	int	(*qi_qadmin)(void);
	struct module_info *qi_minfo;
	struct module_stat *qi_mstat;
};

struct streamtab {
	struct qinit	*st_rdinit;
	struct qinit	*st_wrinit;
	struct qinit	*st_muxrinit;
	struct qinit	*st_muxwinit;
};

/* A priority band's flow control (bands 1..255; band 0 is the queue's). */
typedef struct qband {
	struct qband	*qb_next;
	size_t		qb_count;
	struct msgb	*qb_first;	/* not kept: use strqget(QFIRST) */
	struct msgb	*qb_last;	/* not kept: use strqget(QLAST) */
	size_t		qb_hiwat;
	size_t		qb_lowat;
	uint_t		qb_flag;	/* QB_FULL, QB_WANTW */
} qband_t;

#define	QB_FULL		0x01
#define	QB_WANTW	0x02
#define	QB_BACK		0x04	/* (SVR4; not set by ustreams) */

struct queue {
	struct qinit	*q_qinfo;	/* procedures and limits */
	struct msgb	*q_first;	/* first message */
	struct msgb	*q_last;	/* last message */
	struct queue	*q_next;	/* next queue in the stream (RCU) */
	struct queue	*q_link;	/* unused; SVR4 scheduler link */
	void		*q_ptr;		/* the module's private data */
	size_t		q_count;	/* bytes of band 0 data queued */
	uint_t		q_flag;		/* QREADR, QFULL, ... */
	ssize_t		q_minpsz;
	ssize_t		q_maxpsz;
	size_t		q_hiwat;
	size_t		q_lowat;
	struct qband	*q_bandp;	/* bands 1..q_nband */
	unsigned char	q_nband;
	unsigned char	q_uread;	/* ustreams: 1 on a read queue; set once */
	unsigned char	q_upad[6];
	void		*q_upriv;	/* ustreams: framework's */
};

/* q_flag */
#define	QENAB		0x0001	/* queue is scheduled to run */
#define	QWANTR		0x0002	/* someone wants to read the queue */
#define	QWANTW		0x0004	/* someone wants to write the queue */
#define	QFULL		0x0008	/* queue is full */
#define	QREADR		0x0010	/* this is the read queue */
#define	QUSE		0x0020	/* queue is in use */
#define	QNOENB		0x0040	/* do not enable by putq */
#define	QBACK		0x0100	/* back-enabled; cleared as service starts */
#define	QHLIST		0x0200	/* stream head is on the hlist */
#define	QPROCSON	0x0400	/* ustreams: put/service procedures on */

/* strqget/strqset fields */
typedef enum qfields {
	QHIWAT = 0,
	QLOWAT = 1,
	QMAXPSZ = 2,
	QMINPSZ = 3,
	QCOUNT = 4,
	QFIRST = 5,
	QLAST = 6,
	QFLAG = 7,
	QBAD = 8
} qfields_t;

#define	INFPSZ		(-1)	/* infinite packet size */

/* M_FLUSH flags (the first data byte) */
#define	FLUSHR		0x01
#define	FLUSHW		0x02
#define	FLUSHRW		0x03
#define	FLUSHBAND	0x04

/* flushq/flushband: what to flush */
#define	FLUSHDATA	0	/* data messages only (see datamsg) */
#define	FLUSHALL	1	/* every message (so is any flag but 0) */

/* open sflag */
#define	MODOPEN		0x1	/* a module is being pushed */
#define	CLONEOPEN	0x2	/* the driver picks the minor */

/*
 * M_IOCTL, M_IOCACK, M_IOCNAK: the iocblk at the front of the message.
 */
struct iocblk {
	int		ioc_cmd;	/* ioctl command */
	cred_t		*ioc_cr;	/* credentials */
	uint_t		ioc_id;		/* identifier matching the reply */
	size_t		ioc_count;	/* bytes in b_cont */
	int		ioc_error;	/* error to return (NAK) */
	int		ioc_rval;	/* return value (ACK) */
	long		ioc_filler[4];
};

/*
 * Transparent ioctls.  An ioctl command the stream head does not know is
 * sent down as M_IOCTL with ioc_count TRANSPARENT and, in b_cont, the
 * caller's argument (an intptr_t: usually the address of its data).  A
 * module asks the stream head to copy data in from, or out to, the
 * caller's address by turning the message into M_COPYIN or M_COPYOUT (a
 * struct copyreq; for M_COPYOUT the data in b_cont); the stream head
 * answers each with M_IOCDATA (a struct copyresp; for a copy in, the data
 * in b_cont), and the module ends the ioctl with M_IOCACK or M_IOCNAK.
 * The three structures share their first fields and their cq_private /
 * cp_private slot, so that one message goes back and forth, changed in
 * place; the stream head makes its block large enough for any of them.
 */
#define	TRANSPARENT	((size_t)-1)

/*
 * I_LINK, I_PLINK, I_UNLINK, I_PUNLINK: the data of the M_IOCTL a
 * multiplexing driver gets when a stream is linked below it or unlinked.
 */
struct linkblk {
	queue_t		*l_qtop;	/* the mux's upper write queue */
	queue_t		*l_qbot;	/* the lower stream's top write queue,
					   now the mux's lower write queue */
	int		l_index;	/* the link's identifier (mux id) */
};

#define	MUXID_ALL	(-1)		/* I_UNLINK, I_PUNLINK: every link */

/* M_COPYIN, M_COPYOUT: what to copy. */
struct copyreq {
	int		cq_cmd;		/* ioctl command (from ioc_cmd) */
	cred_t		*cq_cr;		/* credentials */
	uint_t		cq_id;		/* ioctl id (from ioc_id) */
	caddr_t		cq_addr;	/* the caller's address */
	size_t		cq_size;	/* bytes to copy */
	int		cq_flag;	/* reserved: 0 */
	mblk_t		*cq_private;	/* the module's; handed back */
	long		cq_filler[4];
};

/* M_IOCDATA: how the copy went. */
struct copyresp {
	int		cp_cmd;		/* ioctl command */
	cred_t		*cp_cr;		/* credentials */
	uint_t		cp_id;		/* ioctl id */
	caddr_t		cp_rval;	/* 0: copied; else it failed, and the
					   ioctl with it: free the message */
	size_t		cp_pad1;
	int		cp_pad2;
	mblk_t		*cp_private;	/* cq_private, handed back */
	long		cp_filler[4];
};

/*
 * M_SETOPTS: stream head options.
 */
struct stroptions {
	uint_t		so_flags;	/* which options to set */
	short		so_readopt;	/* read option */
	ushort_t	so_wroff;	/* write offset */
	ssize_t		so_minpsz;
	ssize_t		so_maxpsz;
	size_t		so_hiwat;
	size_t		so_lowat;
	unsigned char	so_band;	/* band for water marks */
	ushort_t	so_erropt;	/* error option */
};

#define	SO_ALL		0x003f
#define	SO_READOPT	0x0001
#define	SO_WROFF	0x0002
#define	SO_MINPSZ	0x0004
#define	SO_MAXPSZ	0x0008
#define	SO_HIWAT	0x0010
#define	SO_LOWAT	0x0020
#define	SO_MREADON	0x0040
#define	SO_MREADOFF	0x0080
#define	SO_NDELON	0x0100
#define	SO_NDELOFF	0x0200
#define	SO_ISTTY	0x0400
#define	SO_ISNTTY	0x0800
#define	SO_TOSTOP	0x1000
#define	SO_TONSTOP	0x2000
#define	SO_BAND		0x4000
#define	SO_ERROPT	0x8000

/* M_ERROR: a byte that changes nothing on its side. */
#define	NOERROR		((unsigned char)-1)

/*
 * Queue access.  These read q_uread, which is set once, rather than
 * q_flag & QREADR: q_flag's other bits change under the framework's
 * locks at any time, so reading it unlocked is a data race.
 */
#define	RD(q)		((q)->q_uread ? (q) : (q) - 1)
#define	WR(q)		((q)->q_uread ? (q) + 1 : (q))
#define	OTHERQ(q)	((q)->q_uread ? (q) + 1 : (q) - 1)

/* Queues and flow control (streams/queue.c). */
extern int putq(queue_t *q, mblk_t *mp);
extern mblk_t *getq(queue_t *q);
extern int putbq(queue_t *q, mblk_t *mp);
extern int insq(queue_t *q, mblk_t *emp, mblk_t *mp);
extern void rmvq(queue_t *q, mblk_t *mp);
extern void flushq(queue_t *q, int flag);
extern void flushband(queue_t *q, unsigned char pri, int flag);
extern int qsize(queue_t *q);
extern int canput(queue_t *q);
extern int bcanput(queue_t *q, unsigned char pri);
extern int canputnext(queue_t *q);
extern int bcanputnext(queue_t *q, unsigned char pri);
extern int strqget(queue_t *q, qfields_t what, unsigned char pri, void *valp);
extern int strqset(queue_t *q, qfields_t what, unsigned char pri, intptr_t val);
extern queue_t *backq(queue_t *q);
extern int SAMESTR(queue_t *q);

/* Freezing a stream, for insq, rmvq, strqget, strqset (streams/freeze.c). */
extern pl_t freezestr(queue_t *q);
extern void unfreezestr(queue_t *q, pl_t pl);

/* Putting messages (streams/put.c). */
extern void put(queue_t *q, mblk_t *mp);
extern void putnext(queue_t *q, mblk_t *mp);
extern void qreply(queue_t *q, mblk_t *mp);
extern int putctl(queue_t *q, int type);
extern int putctl1(queue_t *q, int type, int param);
extern int putnextctl(queue_t *q, int type);
extern int putnextctl1(queue_t *q, int type, int param);

/* Scheduling (streams/sched.c). */
extern void qenable(queue_t *q);
extern void noenable(queue_t *q);
extern void enableok(queue_t *q);
extern void qprocson(queue_t *q);
extern void qprocsoff(queue_t *q);

/* Message block allocation and freeing (streams/mblk.c). */
extern mblk_t *allocb(int size, uint_t pri);
extern mblk_t *allocb_physreq(int size, uint_t pri, physreq_t *preqp);
extern int testb(int size, uint_t pri);
extern mblk_t *esballoc(unsigned char *base, int size, uint_t pri,
    frtn_t *frtnp);
extern mblk_t *desballoc(unsigned char *base, int size, uint_t pri,
    frtn_t *frtnp);
extern void freeb(mblk_t *bp);
extern void freemsg(mblk_t *mp);
extern mblk_t *dupb(mblk_t *bp);

extern physreq_t *physreq_alloc(int flag);
extern void physreq_free(physreq_t *preqp);
extern int physreq_prep(physreq_t *preqp, int flag);

/* Messages that meet physical requirements (streams/msgphys.c). */
extern mblk_t *msgphysreq(mblk_t *mp, physreq_t *preqp);
extern mblk_t *msgpullup_physreq(mblk_t *mp, int len, physreq_t *preqp);

/* Recovery from allocation failure (streams/bufcall.c). */
extern bufcall_id_t bufcall(uint_t size, int pri, void (*func)(void *),
    void *arg);
extern bufcall_id_t esbbcall(int pri, void (*func)(void *), void *arg);
extern void unbufcall(bufcall_id_t id);

/* Message utilities (streams/msg.c). */
extern mblk_t *dupmsg(mblk_t *mp);
extern mblk_t *copyb(mblk_t *bp);
extern mblk_t *copymsg(mblk_t *mp);
extern void linkb(mblk_t *mp, mblk_t *bp);
extern mblk_t *unlinkb(mblk_t *mp);
extern mblk_t *rmvb(mblk_t *mp, mblk_t *bp);
extern int msgdsize(mblk_t *mp);
extern size_t msgsize(mblk_t *mp);
extern int pullupmsg(mblk_t *mp, int len);
extern mblk_t *msgpullup(mblk_t *mp, int len);
extern int adjmsg(mblk_t *mp, int len);

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_STREAM_H */
