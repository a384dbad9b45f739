/*
 * Messages that meet physical requirements: msgphysreq, msgpullup_physreq.
 *
 * A driver that hands a message to a DMA engine needs its data where the
 * device can take it: each block's data starting on phys_align, not
 * crossing a multiple of phys_boundary, below 2^phys_dmasize, and in no
 * more than phys_max_scgth pieces (scatter/gather elements).  allocb_physreq
 * gives one such block; these two give a whole message.  The requirements
 * are those physreq_prep accepted (phys_ualign, phys_uboundary), as for
 * allocb_physreq.  Buffers are always contiguous here, so PREQ_PHYSCONTIG
 * is met by every block.
 *
 * A block's data is judged from b_rptr to b_wptr: an empty block needs
 * nothing and is not a piece.  Copies are made with allocb_physreq at
 * BPRI_MED, and keep each block's type, band and flags; all-or-nothing,
 * like the other message utilities (msg.c).
 */
#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/debug.h>

#include <string.h>

#include "mblk_impl.h"

/* Does bp's data meet preqp? */
static bool
blk_meets(const mblk_t *bp, const physreq_t *preqp)
{
	uintptr_t a = (uintptr_t)bp->b_rptr, e = (uintptr_t)bp->b_wptr;
	paddr_t al = preqp->phys_ualign, bd = preqp->phys_uboundary;

	if (e == a)
		return (true);
	if ((a & (al - 1)) != 0)
		return (false);
	if (bd != 0 && (a & ~(bd - 1)) != ((e - 1) & ~(bd - 1)))
		return (false);
	if (preqp->phys_dmasize != 0 && preqp->phys_dmasize < 64 &&
	    ((e - 1) >> preqp->phys_dmasize) != 0)
		return (false);
	return (true);
}

/* Does all of mp meet preqp, pieces counted? */
static bool
msg_meets(mblk_t *mp, const physreq_t *preqp)
{
	unsigned pieces = 0;

	for (; mp != NULL; mp = mp->b_cont) {
		if (!blk_meets(mp, preqp))
			return (false);
		if (MBLKL(mp) > 0)
			pieces++;
	}
	return (preqp->phys_max_scgth == 0 ||
	    pieces <= preqp->phys_max_scgth);
}

/* Bytes in the run of blocks of mp's type that starts at mp. */
static size_t
run_size(const mblk_t *mp)
{
	unsigned char type = mp->b_datap->db_type;
	size_t n = 0;

	for (; mp != NULL && mp->b_datap->db_type == type; mp = mp->b_cont)
		n += (size_t)MBLKL(mp);
	return (n);
}

/*
 * Copy n bytes from *bpp at offset *offp into dst, moving on through the
 * blocks as they run out.
 */
static void
copy_out(const mblk_t **bpp, size_t *offp, unsigned char *dst, size_t n)
{
	while (n > 0) {
		const mblk_t *bp = *bpp;
		size_t k = (size_t)MBLKL(bp) - *offp;

		if (k > n)
			k = n;
		memcpy(dst, bp->b_rptr + *offp, k);
		dst += k;
		n -= k;
		*offp += k;
		if (*offp == (size_t)MBLKL(bp)) {
			*bpp = bp->b_cont;
			*offp = 0;
		}
	}
}

/* A block from allocb_physreq holding n bytes from (*bpp, *offp). */
static mblk_t *
phys_block(const mblk_t *like, const mblk_t **bpp, size_t *offp, size_t n,
    physreq_t *preqp)
{
	mblk_t *nbp;

	if (n > INT32_MAX ||
	    (nbp = allocb_physreq((int)n, BPRI_MED, preqp)) == NULL)
		return (NULL);
	nbp->b_datap->db_type = like->b_datap->db_type;
	nbp->b_band = like->b_band;
	nbp->b_flag = like->b_flag;
	copy_out(bpp, offp, nbp->b_wptr, n);
	nbp->b_wptr += n;
	return (nbp);
}

/*
 * A copy of mp that meets preqp: each run of blocks of one type in as
 * few blocks as phys_boundary allows.  NULL when memory is short or the
 * pieces would be more than phys_max_scgth.
 */
static mblk_t *
phys_copy(mblk_t *mp, physreq_t *preqp)
{
	paddr_t bd = preqp->phys_uboundary;
	const mblk_t *src = mp;
	mblk_t *head = NULL, **tailp = &head;
	unsigned pieces = 0;
	size_t off = 0;

	while (src != NULL) {
		const mblk_t *like = src;
		unsigned char type = src->b_datap->db_type;
		size_t left = run_size(src);

		do {
			size_t n = bd != 0 && left > bd ? (size_t)bd : left;

			if ((*tailp = phys_block(like, &src, &off, n,
			    preqp)) == NULL) {
				freemsg(head);
				return (NULL);
			}
			tailp = &(*tailp)->b_cont;
			pieces += n > 0;
			left -= n;
		} while (left > 0);
		/* Past the run's blocks, empty ones included. */
		while (src != NULL && src->b_datap->db_type == type &&
		    MBLKL(src) == 0)
			src = src->b_cont;
	}
	if (preqp->phys_max_scgth != 0 && pieces > preqp->phys_max_scgth) {
		freemsg(head);
		return (NULL);
	}
	return (head);
}

/*
 * msgphysreq - mp, if its data meets *preqp (as physreq_prep accepted it);
 * else a copy that does, and mp is freed.  NULL when preqp was not
 * prepared, memory is short, or the data cannot be laid out in
 * phys_max_scgth pieces; mp is then unchanged and still the caller's.
 * Any context; does not block.
 */
mblk_t *
msgphysreq(mblk_t *mp, physreq_t *preqp)
{
	mblk_t *nmp;

	if (mp == NULL || preqp == NULL || !preqp->phys_uprepped)
		return (NULL);
	if (msg_meets(mp, preqp))
		return (mp);
	if ((nmp = phys_copy(mp, preqp)) == NULL)
		return (NULL);
	freemsg(mp);
	return (nmp);
}

/*
 * msgpullup_physreq - msgpullup whose first block, holding the first len
 * bytes of mp's leading sequence (-1: all of it), comes from
 * allocb_physreq(preqp).  mp is unchanged.  NULL when preqp was not
 * prepared, len is out of range or more than phys_boundary, or memory is
 * short.  Any context; does not block.
 */
mblk_t *
msgpullup_physreq(mblk_t *mp, int len, physreq_t *preqp)
{
	const mblk_t *src = mp;
	size_t total, want, off = 0;
	mblk_t *nmp;

	if (mp == NULL || preqp == NULL || !preqp->phys_uprepped)
		return (NULL);
	total = run_size(mp);
	if (len == -1)
		want = total;
	else if (len < 0 || (size_t)len > total)
		return (NULL);
	else
		want = (size_t)len;
	if ((nmp = phys_block(mp, &src, &off, want, preqp)) == NULL)
		return (NULL);
	return (msg_append_copies(nmp, src, off));
}
