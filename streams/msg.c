/*
 * Message utilities: dupmsg, copyb, copymsg, linkb, unlinkb, rmvb,
 * msgdsize, msgsize, pullupmsg, msgpullup, adjmsg.
 *
 * A message is a chain of message blocks through b_cont.  These routines
 * work on whole messages with the SVR4 semantics; the ones that allocate
 * are all-or-nothing: on failure the message is unchanged and whatever was
 * built is freed.  Copies are allocated at BPRI_MED, as SVR4 did.
 *
 * "The leading sequence" of a message is its first block and the blocks
 * after it of the same type: pullupmsg and adjmsg never mix types.
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/debug.h>

#include <string.h>

#include "mblk_impl.h"

/* Bytes in the leading sequence of blocks of mp's type. */
static size_t
xmsgsize(mblk_t *mp)
{
	unsigned char type = mp->b_datap->db_type;
	size_t n = 0;

	for (; mp != NULL && mp->b_datap->db_type == type; mp = mp->b_cont)
		n += (size_t)MBLKL(mp);
	return (n);
}

/*
 * dupmsg - dupb every block of mp into a new message.  NULL (and nothing
 * left allocated) if any dupb fails.  Any context; does not block.
 */
mblk_t *
dupmsg(mblk_t *mp)
{
	mblk_t *head = NULL, **tailp = &head;

	for (; mp != NULL; mp = mp->b_cont) {
		if ((*tailp = dupb(mp)) == NULL) {
			freemsg(head);
			return (NULL);
		}
		tailp = &(*tailp)->b_cont;
	}
	return (head);
}

/*
 * copyb - a new block with a buffer as large as bp's, holding a copy of
 * bp's data at the same offset from the start of the buffer (so headroom is
 * kept), with bp's type, band and flags.  NULL when no block can be had.
 */
mblk_t *
copyb(mblk_t *bp)
{
	dblk_t *dbp = bp->b_datap;
	size_t off = (size_t)(bp->b_rptr - dbp->db_base);
	size_t len = (size_t)MBLKL(bp);
	mblk_t *nbp;

	if ((nbp = allocb((int)(dbp->db_lim - dbp->db_base), BPRI_MED)) ==
	    NULL)
		return (NULL);
	nbp->b_datap->db_type = dbp->db_type;
	nbp->b_band = bp->b_band;
	nbp->b_flag = bp->b_flag;
	nbp->b_rptr = nbp->b_datap->db_base + off;
	if (len > 0)
		memcpy(nbp->b_rptr, bp->b_rptr, len);
	nbp->b_wptr = nbp->b_rptr + len;
	return (nbp);
}

/*
 * copymsg - copyb every block of mp.  NULL (nothing left allocated) if any
 * copy fails.
 */
mblk_t *
copymsg(mblk_t *mp)
{
	mblk_t *head = NULL, **tailp = &head;

	for (; mp != NULL; mp = mp->b_cont) {
		if ((*tailp = copyb(mp)) == NULL) {
			freemsg(head);
			return (NULL);
		}
		tailp = &(*tailp)->b_cont;
	}
	return (head);
}

/* linkb - append message bp to message mp. */
void
linkb(mblk_t *mp, mblk_t *bp)
{
	ASSERT(mp != NULL);
	while (mp->b_cont != NULL)
		mp = mp->b_cont;
	mp->b_cont = bp;
}

/* unlinkb - detach mp's first block; returns the rest (or NULL). */
mblk_t *
unlinkb(mblk_t *mp)
{
	mblk_t *rest = mp->b_cont;

	mp->b_cont = NULL;
	return (rest);
}

/*
 * rmvb - remove block bp from message mp.  Returns the message's new first
 * block (NULL if bp was its only block), or (mblk_t *)-1 if bp is not in
 * mp.  bp is not freed; its b_cont is cleared.
 */
mblk_t *
rmvb(mblk_t *mp, mblk_t *bp)
{
	mblk_t *prev = NULL, *cur;

	for (cur = mp; cur != NULL && cur != bp; cur = cur->b_cont)
		prev = cur;
	if (cur == NULL)
		return ((mblk_t *)-1);
	if (prev == NULL)
		mp = bp->b_cont;
	else
		prev->b_cont = bp->b_cont;
	bp->b_cont = NULL;
	return (mp);
}

/* msgdsize - bytes of data in the M_DATA blocks of mp. */
int
msgdsize(mblk_t *mp)
{
	size_t n = 0;

	for (; mp != NULL; mp = mp->b_cont) {
		if (mp->b_datap->db_type == M_DATA)
			n += (size_t)MBLKL(mp);
	}
	return ((int)n);
}

/* msgsize - bytes in all blocks of mp, whatever their type. */
size_t
msgsize(mblk_t *mp)
{
	size_t n = 0;

	for (; mp != NULL; mp = mp->b_cont)
		n += (size_t)MBLKL(mp);
	return (n);
}

/*
 * Copy len bytes of the leading sequence starting at mp into dst; returns
 * the first block not wholly consumed (or NULL), and sets *offp to the
 * bytes consumed of that block.
 */
static mblk_t *
gather(mblk_t *mp, unsigned char *dst, size_t len, size_t *offp)
{
	while (len > 0) {
		size_t n = (size_t)MBLKL(mp);

		if (n > len) {
			memcpy(dst, mp->b_rptr, len);
			*offp = len;
			return (mp);
		}
		memcpy(dst, mp->b_rptr, n);
		dst += n;
		len -= n;
		mp = mp->b_cont;
	}
	*offp = 0;
	return (mp);
}

/*
 * pullupmsg - make the first len bytes of mp (-1: its whole leading
 * sequence) contiguous and aligned in mp's first block.  Returns 1, or 0
 * when the leading sequence holds fewer than len bytes or no block can be
 * had (nor, when part of mp's own block must stay behind, a dup of it); on
 * failure mp is unchanged.  mp stays the same pointer; blocks whose data
 * moved into it are freed, and dups of them keep their data.  Any
 * context; does not block.
 */
int
pullupmsg(mblk_t *mp, int len)
{
	const void *caller = __builtin_return_address(0);
	size_t total = xmsgsize(mp), want, off;
	dblk_t *odbp = mp->b_datap;
	mblk_t *nmp, *bp, *rest, *rem = NULL;

	if (len == -1) {
		if (mp->b_cont == NULL &&
		    ((uintptr_t)mp->b_rptr & (sizeof (long) - 1)) == 0)
			return (1);
		want = total;
	} else {
		if (len < 0 || (size_t)len > total)
			return (0);
		want = (size_t)len;
		if ((size_t)MBLKL(mp) >= want &&
		    ((uintptr_t)mp->b_rptr & (sizeof (long) - 1)) == 0)
			return (1);
	}
	if ((nmp = allocb((int)want, BPRI_MED)) == NULL)
		return (0);
	/*
	 * A misaligned first block may hold more than want bytes.  mp's
	 * header moves to the new buffer, so the bytes past want need a
	 * header of their own: a dup of mp, linked after it.
	 */
	if ((size_t)MBLKL(mp) > want && (rem = dupb(mp)) == NULL) {
		freeb_common(nmp, caller);
		return (0);
	}

	rest = gather(mp, nmp->b_wptr, want, &off);
	if (rest == mp) {
		/* Nothing after mp was reached; rem holds mp's leftover. */
		ASSERT(rem != NULL || MBLKL(mp) == 0);
		rest = mp->b_cont;
		if (rem != NULL) {
			rem->b_rptr += off;
			rem->b_cont = rest;
			rest = rem;
		}
	} else {
		ASSERT(rem == NULL);
		if (rest != NULL)
			rest->b_rptr += off;
		/* Free the blocks after mp that were wholly consumed. */
		for (bp = mp->b_cont; bp != rest; ) {
			mblk_t *next = bp->b_cont;

			freeb_common(bp, caller);
			bp = next;
		}
	}
	/*
	 * mp takes over nmp's dblk.  nmp's header goes out of use; its dblk's
	 * one reference is now mp's.  mp gives up its reference on the old
	 * dblk -- unless that is its home, whose object must stay as long as
	 * mp lives (the residence rule of mblk.c).
	 */
	mp->b_datap = nmp->b_datap;
	mp->b_datap->db_type = odbp->db_type;
	mp->b_rptr = nmp->b_rptr;
	mp->b_wptr = nmp->b_rptr + want;
	mp->b_cont = rest;
	nmp->b_ustate = MB_UFREE;
	nmp->b_ufreer = (void *)caller;
	if ((mp->b_uflags & MB_UHOME) && odbp == MB_HOMEDB(mp))
		mblk_leave_home(mp, caller);
	else
		dblk_release(odbp, caller);
	return (1);
}

/*
 * msgpullup - a new message whose first block holds the first len bytes
 * of mp (-1: its whole leading sequence), aligned, followed by copies of
 * the rest of mp.  mp is unchanged.  NULL when the leading sequence holds
 * fewer than len bytes or memory is short.
 */
mblk_t *
msgpullup(mblk_t *mp, int len)
{
	size_t total = xmsgsize(mp), want, off;
	mblk_t *nmp, *rest;

	if (len == -1)
		want = total;
	else if (len < 0 || (size_t)len > total)
		return (NULL);
	else
		want = (size_t)len;
	if ((nmp = allocb((int)want, BPRI_MED)) == NULL)
		return (NULL);
	nmp->b_datap->db_type = mp->b_datap->db_type;
	nmp->b_band = mp->b_band;
	nmp->b_flag = mp->b_flag;
	rest = gather(mp, nmp->b_wptr, want, &off);
	nmp->b_wptr += want;
	return (msg_append_copies(nmp, rest, off));
}

/*
 * Append to nmp (a single block) copies of rest and the blocks after it,
 * the first without its first off bytes: what msgpullup and
 * msgpullup_physreq copy after the bytes they pulled up.  Returns nmp, or
 * NULL, with nmp freed, when a copy cannot be had.
 */
mblk_t *
msg_append_copies(mblk_t *nmp, const mblk_t *rest, size_t off)
{
	mblk_t *tail = nmp;

	ASSERT(nmp->b_cont == NULL);
	for (; rest != NULL; rest = rest->b_cont, off = 0) {
		mblk_t *c = copyb((mblk_t *)rest);

		if (c == NULL) {
			freemsg(nmp);
			return (NULL);
		}
		c->b_rptr += off;
		tail->b_cont = c;
		tail = c;
	}
	return (nmp);
}

/*
 * adjmsg - trim |len| bytes from the head (len > 0) or the tail (len < 0)
 * of mp's leading sequence.  Blocks after the first that the trim reaches
 * and leaves empty are removed, as on SVR4: from the head, each block the
 * trim passes over; from the tail, each last block of the sequence the
 * trim takes the rest of, or finds empty, on its way back.  The first
 * block always stays; a trim of 0 changes nothing.  Returns 1, or 0 (mp
 * unchanged) when the leading sequence holds fewer than |len| bytes.
 */
int
adjmsg(mblk_t *mp, int len)
{
	const void *caller = __builtin_return_address(0);
	unsigned char type = mp->b_datap->db_type;
	size_t n, todo = len < 0 ? (size_t)-(long)len : (size_t)len;
	mblk_t *bp, *prev, *last;

	if (todo > xmsgsize(mp))
		return (0);
	if (len >= 0) {
		for (prev = NULL, bp = mp; todo > 0; ) {
			mblk_t *next = bp->b_cont;

			n = (size_t)MBLKL(bp) < todo ? (size_t)MBLKL(bp) : todo;
			bp->b_rptr += n;
			todo -= n;
			if (bp != mp && MBLKL(bp) == 0) {
				prev->b_cont = next;
				bp->b_cont = NULL;
				freeb_common(bp, caller);
			} else {
				prev = bp;
			}
			bp = next;
		}
		return (1);
	}
	while (todo > 0) {
		/* The last block of the leading sequence, and the one before. */
		prev = NULL;
		last = mp;
		for (bp = mp->b_cont; bp != NULL && bp->b_datap->db_type == type;
		    bp = bp->b_cont) {
			prev = last;
			last = bp;
		}
		n = (size_t)MBLKL(last) < todo ? (size_t)MBLKL(last) : todo;
		last->b_wptr -= n;
		todo -= n;
		if (last != mp && MBLKL(last) == 0) {
			prev->b_cont = last->b_cont;
			last->b_cont = NULL;
			freeb_common(last, caller);
		}
	}
	return (1);
}
