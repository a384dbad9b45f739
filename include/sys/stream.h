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
 * pullupmsg, the block's own header while that header points elsewhere);
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
 * queue.  The owner of a message may change every field but b_datap.
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
#define	MSGNOGET	0x08	/* getq does not return message */

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
} physreq_t;

#define	PREQ_PHYSCONTIG	0x01	/* physically contiguous */

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
