/*
 * Unit tests of streams/msg.c: the SVR4 message utilities dupmsg, copyb,
 * copymsg, linkb, unlinkb, rmvb, msgdsize, msgsize, pullupmsg, msgpullup
 * and adjmsg, with datamsg(), pcmsg() and the <sys/strsun.h> macros.
 *
 * The contract is SVR4's (the SVR5 D3str pages; the illumos 9F pages say
 * the same): a message is a chain of blocks through b_cont; "the leading
 * sequence" is the first block and the blocks after it of the same type,
 * and pullupmsg, msgpullup and adjmsg never reach past it; the routines
 * that allocate are all-or-nothing, and copies are made at BPRI_MED while
 * dupb is admitted like BPRI_HI.
 *
 * Most tests use one message of four M_DATA blocks of 3, 100, 1 and 700
 * bytes, 804 bytes in all.  Byte i of a block is seed + i (mod 256), with
 * the seeds 'a', 0x00, 0xee and 0x80, so the message reads "abc",
 * 0x00 .. 0x63, 0xee, 0x80 .. 0xff, 0x00 .. 0x3b.
 *
 * Sizes (streams/strcache.h): allocb(n) for n <= 64 takes the class whose
 * buffer is 64 bytes and footprint 192; a dupb header takes 64 bytes.  Every
 * test that allocates frees what it built and checks that no block of any
 * class is left in use, and that shutdown finds no leak.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ustreams.h>
#include <sys/ustreams_stat.h>

#include <stdint.h>
#include <string.h>

/* The footprints of the data classes, largest first. */
static const size_t data_footprint[] = {
	81920, 40960, 20480, 10240, 5120, 2560, 1280, 640, 384, 256, 192
};
#define	NDATA_FOOTPRINT	(sizeof (data_footprint) / sizeof (data_footprint[0]))
#define	HDRSIZE		128	/* mblk + dblk in front of a class's buffer */
#define	DUPB_FOOTPRINT	64

static struct ustreams_strstat
strstat_now(void)
{
	struct ustreams_strstat ss;

	ck_assert_int_eq(ustreams_strstat(&ss), 0);
	return (ss);
}

static const struct ustreams_classstat *
class_of(const struct ustreams_strstat *ssp, const char *name)
{
	for (unsigned c = 0; c < ssp->ss_nclass; c++) {
		if (strcmp(ssp->ss_class[c].cs_name, name) == 0)
			return (&ssp->ss_class[c]);
	}
	ck_abort_msg("no size class named \"%s\"", name);
	return (NULL);
}

static uint64_t
class_inuse(const char *name)
{
	struct ustreams_strstat ss = strstat_now();

	return (class_of(&ss, name)->cs_inuse);
}

static size_t
mem_inuse(void)
{
	return (strstat_now().ss_mem.ms_inuse);
}

/*
 * Boot a sim instance of memsize bytes.  This thread's buffer cache is
 * made on its first allocation and counts in ms_inuse from then on; it is
 * made here, so that a test's baseline of memory in use already holds it.
 */
static void
boot(size_t memsize)
{
	mblk_t *bp;

	harness_boot(memsize, USTREAMS_EXEC_SIM);
	harness_log_capture();
	bp = allocb(0, BPRI_HI);
	ck_assert_ptr_nonnull(bp);
	freeb(bp);
}

/* The end of every test: nothing in use, and shutdown reports no leak. */
static void
finish(void)
{
	harness_assert_no_block_in_use("test_msg");
	harness_shutdown();
	ck_assert_msg(harness_log_find("still") == NULL,
	    "shutdown reported: %s", harness_log_find("still"));
}

/* A block of type M_DATA holding len bytes seed, seed + 1, ... */
static mblk_t *
mkblk(int len, unsigned char seed)
{
	mblk_t *bp = allocb(len, BPRI_HI);

	ck_assert_ptr_nonnull(bp);
	for (int i = 0; i < len; i++)
		*bp->b_wptr++ = (unsigned char)(seed + i);
	return (bp);
}

static mblk_t *
mkblk_type(int len, unsigned char seed, unsigned char type)
{
	mblk_t *bp = mkblk(len, seed);

	DB_TYPE(bp) = type;
	return (bp);
}

static void
assert_bytes(const unsigned char *p, int len, unsigned char seed)
{
	for (int i = 0; i < len; i++) {
		ck_assert_msg(p[i] == (unsigned char)(seed + i),
		    "byte %d is 0x%02x, expected 0x%02x", i, p[i],
		    (unsigned char)(seed + i));
	}
}

/* bp holds exactly len bytes seed, seed + 1, ... */
static void
assert_block(const mblk_t *bp, int len, unsigned char seed)
{
	ck_assert_ptr_nonnull(bp);
	ck_assert_int_eq(MBLKL(bp), len);
	assert_bytes(bp->b_rptr, len, seed);
}

/*
 * An M_PROTO block of 8 bytes, one of 4 continuing its pattern, and 100
 * bytes of M_DATA: a leading sequence of 12 bytes.  Its blocks in p1, d.
 */
static mblk_t *
msg_proto_8_4_data_100(mblk_t **p1p, mblk_t **dp)
{
	mblk_t *mp = mkblk_type(8, 0x01, M_PROTO);

	*p1p = mkblk_type(4, 0x09, M_PROTO);
	*dp = mkblk(100, 0x00);
	mp->b_cont = *p1p;
	(*p1p)->b_cont = *dp;
	return (mp);
}

/* The message of 3, 100, 1 and 700 bytes; its blocks in b[0..3]. */
static mblk_t *
msg_3_100_1_700(mblk_t *b[4])
{
	b[0] = mkblk(3, 'a');
	b[1] = mkblk(100, 0x00);
	b[2] = mkblk(1, 0xee);
	b[3] = mkblk(700, 0x80);
	b[0]->b_cont = b[1];
	b[1]->b_cont = b[2];
	b[2]->b_cont = b[3];
	return (b[0]);
}

/* The 804 bytes of that message, contiguous at p. */
static void
assert_804_bytes(const unsigned char *p)
{
	ck_assert_int_eq(p[0], 'a');
	ck_assert_int_eq(p[2], 'c');
	ck_assert_int_eq(p[3], 0x00);
	ck_assert_int_eq(p[102], 0x63);
	ck_assert_int_eq(p[103], 0xee);
	ck_assert_int_eq(p[104], 0x80);
	ck_assert_int_eq(p[803], 0x3b);
	assert_bytes(p, 3, 'a');
	assert_bytes(p + 3, 100, 0x00);
	assert_bytes(p + 103, 1, 0xee);
	assert_bytes(p + 104, 700, 0x80);
}

/* The message of 3, 100, 1 and 700 bytes, as built, block by block. */
static void
assert_msg_3_100_1_700(mblk_t *mp, mblk_t *b[4])
{
	ck_assert_ptr_eq(mp, b[0]);
	assert_block(b[0], 3, 'a');
	ck_assert_ptr_eq(b[0]->b_cont, b[1]);
	assert_block(b[1], 100, 0x00);
	ck_assert_ptr_eq(b[1]->b_cont, b[2]);
	assert_block(b[2], 1, 0xee);
	ck_assert_ptr_eq(b[2]->b_cont, b[3]);
	assert_block(b[3], 700, 0x80);
	ck_assert_ptr_null(b[3]->b_cont);
}

/*
 * Take memory with BPRI_HI blocks, largest classes first, until what is
 * in use lies within 192 bytes (the smallest data class) below limit.  The
 * blocks are pushed on *hogp, a message freed with freemsg.
 */
static void
hog_blocks_to(mblk_t **hogp, size_t limit)
{
	for (size_t k = 0; k < NDATA_FOOTPRINT; k++) {
		size_t fp = data_footprint[k];

		while (mem_inuse() + fp <= limit) {
			mblk_t *bp = allocb((int)(fp - HDRSIZE), BPRI_HI);

			ck_assert_msg(bp != NULL, "BPRI_HI allocb of footprint "
			    "%zu refused at %zu in use", fp, mem_inuse());
			bp->b_cont = *hogp;
			*hogp = bp;
		}
	}
	ck_assert_uint_le(mem_inuse(), limit);
	ck_assert_uint_lt(limit - mem_inuse(), 192);
}

/* Then with dupb headers (64 bytes each), to within 64 bytes of limit. */
static void
hog_headers_to(mblk_t **hogp, size_t limit)
{
	ck_assert_ptr_nonnull(*hogp);
	while (mem_inuse() + DUPB_FOOTPRINT <= limit) {
		mblk_t *bp = dupb(*hogp);

		ck_assert_msg(bp != NULL, "dupb refused at %zu in use",
		    mem_inuse());
		bp->b_cont = *hogp;
		*hogp = bp;
	}
	ck_assert_uint_lt(limit - mem_inuse(), DUPB_FOOTPRINT);
}

static size_t
med_limit(void)
{
	return (strstat_now().ss_mem.ms_med_limit);
}

/*
 * datamsg(), pcmsg() and <sys/strsun.h>
 */

START_TEST(test_datamsg_is_true_for_the_four_data_types)
{
	ck_assert(datamsg(M_DATA));
	ck_assert(datamsg(M_PROTO));
	ck_assert(datamsg(M_PCPROTO));
	ck_assert(datamsg(M_DELAY));
}
END_TEST

START_TEST(test_datamsg_is_false_for_control_types)
{
	ck_assert(!datamsg(M_CTL));
	ck_assert(!datamsg(M_IOCTL));
	ck_assert(!datamsg(M_BREAK));
	ck_assert(!datamsg(M_SIG));
	ck_assert(!datamsg(M_FLUSH));
	ck_assert(!datamsg(M_ERROR));
	ck_assert(!datamsg(M_PCSIG));
	ck_assert(!datamsg(M_IOCACK));
}
END_TEST

START_TEST(test_pcmsg_is_true_from_qpctl_up)
{
	ck_assert(pcmsg(M_PCPROTO));
	ck_assert(pcmsg(M_FLUSH));
	ck_assert(pcmsg(M_ERROR));
	ck_assert(pcmsg(M_HANGUP));
	ck_assert(pcmsg(M_IOCACK));
	ck_assert(pcmsg(M_PCSIG));
	ck_assert(!pcmsg(M_DATA));
	ck_assert(!pcmsg(M_PROTO));
	ck_assert(!pcmsg(M_IOCTL));
	ck_assert(!pcmsg(M_CTL));
	ck_assert(!pcmsg(M_SIG));
	ck_assert(!pcmsg(M_DELAY));
	for (int t = 0; t <= 0xff; t++)
		ck_assert_int_eq(pcmsg(t), t >= QPCTL);
}
END_TEST

START_TEST(test_pcmsg_evaluates_its_argument_once)
{
	unsigned char types[2] = { M_PCPROTO, M_DATA }, *tp = types;

	ck_assert(pcmsg(*tp++));
	ck_assert_ptr_eq(tp, &types[1]);
	ck_assert(!pcmsg(*tp++));
	ck_assert_ptr_eq(tp, &types[2]);
}
END_TEST

START_TEST(test_strsun_macros_measure_a_block_with_headroom_and_tailroom)
{
	mblk_t *bp;

	boot(USTREAMS_MEM_DEFAULT);
	bp = allocb(128, BPRI_HI);
	ck_assert_ptr_nonnull(bp);
	bp->b_rptr += 10;
	bp->b_wptr = bp->b_rptr + 20;
	ck_assert_int_eq(MBLKSIZE(bp), 128);
	ck_assert_int_eq(MBLKL(bp), 20);
	ck_assert_int_eq(MBLKHEAD(bp), 10);
	ck_assert_int_eq(MBLKTAIL(bp), 98);
	ck_assert_ptr_eq(DB_BASE(bp), bp->b_rptr - 10);
	ck_assert_ptr_eq(DB_LIM(bp), bp->b_wptr + 98);
	freeb(bp);
	finish();
}
END_TEST

START_TEST(test_db_type_reads_and_sets_the_message_type)
{
	mblk_t *bp;

	boot(USTREAMS_MEM_DEFAULT);
	bp = allocb(8, BPRI_HI);
	ck_assert_ptr_nonnull(bp);
	ck_assert_int_eq(DB_TYPE(bp), M_DATA);
	DB_TYPE(bp) = M_PROTO;
	ck_assert_int_eq(bp->b_datap->db_type, 0x01);
	freeb(bp);
	finish();
}
END_TEST

START_TEST(test_db_ref_counts_the_blocks_sharing_a_data_block)
{
	mblk_t *bp, *d1, *d2;

	boot(USTREAMS_MEM_DEFAULT);
	bp = allocb(8, BPRI_HI);
	ck_assert_ptr_nonnull(bp);
	ck_assert_int_eq(DB_REF(bp), 1);
	d1 = dupb(bp);
	d2 = dupb(d1);
	ck_assert_ptr_nonnull(d1);
	ck_assert_ptr_nonnull(d2);
	ck_assert_int_eq(DB_REF(bp), 3);
	ck_assert_int_eq(DB_REF(d2), 3);
	freeb(d1);
	ck_assert_int_eq(DB_REF(bp), 2);
	freeb(bp);
	ck_assert_int_eq(DB_REF(d2), 1);
	freeb(d2);
	finish();
}
END_TEST

/*
 * dupmsg and dupb
 */

START_TEST(test_dupmsg_shares_every_data_block)
{
	mblk_t *b[4], *mp, *dp, *d, *o;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	dp = dupmsg(mp);
	ck_assert_ptr_nonnull(dp);
	for (d = dp, o = mp; o != NULL; d = d->b_cont, o = o->b_cont) {
		ck_assert_ptr_nonnull(d);
		ck_assert_ptr_ne(d, o);
		ck_assert_ptr_eq(d->b_datap, o->b_datap);
		ck_assert_ptr_eq(d->b_rptr, o->b_rptr);
		ck_assert_ptr_eq(d->b_wptr, o->b_wptr);
		ck_assert_int_eq(DB_REF(d), 2);
	}
	ck_assert_ptr_null(d);
	ck_assert_uint_eq(class_inuse("mblk"), 4);
	freemsg(dp);
	assert_msg_3_100_1_700(mp, b);
	ck_assert_int_eq(DB_REF(b[1]), 1);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_dupmsg_survives_pullupmsg_and_freemsg_of_the_original)
{
	mblk_t *b[4], *mp, *dp;
	size_t baseline;

	boot(USTREAMS_MEM_DEFAULT);
	baseline = mem_inuse();
	mp = msg_3_100_1_700(b);
	dp = dupmsg(mp);
	ck_assert_ptr_nonnull(dp);
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	ck_assert_int_eq(MBLKL(mp), 804);
	freemsg(mp);

	assert_block(dp, 3, 'a');
	assert_block(dp->b_cont, 100, 0x00);
	assert_block(dp->b_cont->b_cont, 1, 0xee);
	assert_block(dp->b_cont->b_cont->b_cont, 700, 0x80);
	ck_assert_ptr_null(dp->b_cont->b_cont->b_cont->b_cont);

	freemsg(dp);
	harness_assert_no_block_in_use("test_msg");
	ck_assert_uint_eq(mem_inuse(), baseline);
	finish();
}
END_TEST

START_TEST(test_dupb_returns_null_at_dblk_refmax)
{
	static mblk_t *dups[DBLK_REFMAX];
	mblk_t *bp;

	boot(USTREAMS_MEM_DEFAULT);
	bp = mkblk(10, 0x10);
	for (int i = 0; i < 254; i++) {
		dups[i] = dupb(bp);
		ck_assert_msg(dups[i] != NULL, "dupb %d failed", i + 1);
	}
	ck_assert_int_eq(DB_REF(bp), 255);
	ck_assert_ptr_null(dupb(bp));
	ck_assert_ptr_null(dupb(dups[100]));
	ck_assert_int_eq(DB_REF(bp), 255);
	ck_assert_uint_eq(class_inuse("mblk"), 254);

	freeb(dups[0]);
	dups[0] = dupb(bp);
	ck_assert_ptr_nonnull(dups[0]);
	for (int i = 0; i < 254; i++)
		freeb(dups[i]);
	assert_block(bp, 10, 0x10);
	ck_assert_int_eq(DB_REF(bp), 1);
	freeb(bp);
	finish();
}
END_TEST

START_TEST(test_dupmsg_with_a_block_at_refmax_returns_null_and_frees_its_dups)
{
	static mblk_t *dups[DBLK_REFMAX];
	struct ustreams_strstat before, after;
	mblk_t *b[3], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	b[0] = mkblk(10, 0x10);
	b[1] = mkblk(20, 0x20);
	b[2] = mkblk(30, 0x30);
	b[0]->b_cont = b[1];
	b[1]->b_cont = b[2];
	mp = b[0];
	for (int i = 0; i < 254; i++) {
		dups[i] = dupb(b[1]);
		ck_assert_ptr_nonnull(dups[i]);
	}
	before = strstat_now();

	ck_assert_ptr_null(dupmsg(mp));

	after = strstat_now();
	/* b[0] was dup'd on the way, and that dup freed again. */
	ck_assert_uint_eq(class_of(&after, "mblk")->cs_total,
	    class_of(&before, "mblk")->cs_total + 1);
	ck_assert_uint_eq(class_of(&after, "mblk")->cs_inuse, 254);
	ck_assert_uint_eq(after.ss_mem.ms_inuse, before.ss_mem.ms_inuse);
	ck_assert_int_eq(DB_REF(b[0]), 1);
	ck_assert_int_eq(DB_REF(b[1]), 255);
	ck_assert_int_eq(DB_REF(b[2]), 1);
	ck_assert_ptr_eq(b[0]->b_cont, b[1]);
	ck_assert_ptr_eq(b[1]->b_cont, b[2]);

	for (int i = 0; i < 254; i++)
		freeb(dups[i]);
	freemsg(mp);
	finish();
}
END_TEST

/*
 * copyb and copymsg
 */

START_TEST(test_copyb_keeps_headroom_data_type_band_and_flag)
{
	mblk_t *bp, *cp;

	boot(USTREAMS_MEM_DEFAULT);
	bp = allocb(256, BPRI_HI);
	ck_assert_ptr_nonnull(bp);
	bp->b_rptr += 10;
	bp->b_wptr = bp->b_rptr;
	for (int i = 0; i < 50; i++)
		*bp->b_wptr++ = (unsigned char)(0x40 + i);
	DB_TYPE(bp) = M_PROTO;
	bp->b_band = 5;
	bp->b_flag = MSGMARK | MSGDELIM;

	cp = copyb(bp);
	ck_assert_ptr_nonnull(cp);
	ck_assert_ptr_ne(cp->b_datap, bp->b_datap);
	ck_assert_int_eq(MBLKHEAD(cp), 10);
	ck_assert_int_eq(MBLKL(cp), 50);
	assert_bytes(cp->b_rptr, 50, 0x40);
	ck_assert_int_eq(DB_TYPE(cp), M_PROTO);
	ck_assert_int_eq(cp->b_band, 5);
	ck_assert_int_eq(cp->b_flag, 0x05);
	ck_assert_int_ge(MBLKSIZE(cp), 256);
	ck_assert_int_eq(DB_REF(cp), 1);
	ck_assert_ptr_null(cp->b_cont);
	ck_assert_int_eq(DB_REF(bp), 1);
	freeb(cp);
	freeb(bp);
	finish();
}
END_TEST

START_TEST(test_copyb_copies_one_block_only)
{
	mblk_t *b[4], *mp, *cp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	cp = copyb(mp);
	ck_assert_ptr_nonnull(cp);
	assert_block(cp, 3, 'a');
	ck_assert_ptr_null(cp->b_cont);
	freeb(cp);
	assert_msg_3_100_1_700(mp, b);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_copyb_of_a_duped_block_is_independent)
{
	mblk_t *bp, *dp, *cp;

	boot(USTREAMS_MEM_DEFAULT);
	bp = mkblk(40, 0x20);
	dp = dupb(bp);
	ck_assert_ptr_nonnull(dp);
	cp = copyb(dp);
	ck_assert_ptr_nonnull(cp);
	ck_assert_ptr_ne(cp->b_datap, bp->b_datap);
	ck_assert_int_eq(DB_REF(cp), 1);
	ck_assert_int_eq(DB_REF(bp), 2);
	assert_block(cp, 40, 0x20);

	memset(cp->b_rptr, 0xff, 40);
	assert_block(bp, 40, 0x20);
	assert_block(dp, 40, 0x20);
	memset(bp->b_rptr, 0x00, 40);
	ck_assert_int_eq(cp->b_rptr[0], 0xff);
	ck_assert_int_eq(cp->b_rptr[39], 0xff);

	freeb(cp);
	freeb(bp);
	freeb(dp);
	finish();
}
END_TEST

START_TEST(test_copymsg_copies_every_block)
{
	mblk_t *b[3], *mp, *cp, *c;

	boot(USTREAMS_MEM_DEFAULT);
	b[0] = mkblk_type(8, 0x01, M_PROTO);
	b[1] = mkblk(3, 'x');
	b[2] = mkblk(700, 0x80);
	b[0]->b_band = 2;
	b[2]->b_flag = MSGMARK;
	b[0]->b_cont = b[1];
	b[1]->b_cont = b[2];
	mp = b[0];

	cp = copymsg(mp);
	ck_assert_ptr_nonnull(cp);
	c = cp;
	for (int i = 0; i < 3; i++, c = c->b_cont) {
		ck_assert_ptr_nonnull(c);
		ck_assert_ptr_ne(c, b[i]);
		ck_assert_ptr_ne(c->b_datap, b[i]->b_datap);
		ck_assert_int_eq(DB_REF(c), 1);
		ck_assert_int_eq(DB_REF(b[i]), 1);
	}
	ck_assert_ptr_null(c);
	assert_block(cp, 8, 0x01);
	ck_assert_int_eq(DB_TYPE(cp), M_PROTO);
	ck_assert_int_eq(cp->b_band, 2);
	assert_block(cp->b_cont, 3, 'x');
	ck_assert_int_eq(DB_TYPE(cp->b_cont), M_DATA);
	assert_block(cp->b_cont->b_cont, 700, 0x80);
	ck_assert_int_eq(cp->b_cont->b_cont->b_flag, MSGMARK);

	memset(cp->b_cont->b_cont->b_rptr, 0, 700);
	assert_block(b[2], 700, 0x80);

	freemsg(cp);
	freemsg(mp);
	finish();
}
END_TEST

/*
 * linkb, unlinkb, rmvb
 */

START_TEST(test_linkb_appends_a_message_after_the_last_block)
{
	mblk_t *a, *b, *c, *d;

	boot(USTREAMS_MEM_DEFAULT);
	a = mkblk(1, 'a');
	b = mkblk(1, 'b');
	c = mkblk(1, 'c');
	d = mkblk(1, 'd');
	linkb(a, b);
	ck_assert_ptr_eq(a->b_cont, b);
	ck_assert_ptr_null(b->b_cont);
	c->b_cont = d;
	linkb(a, c);
	ck_assert_ptr_eq(a->b_cont, b);
	ck_assert_ptr_eq(b->b_cont, c);
	ck_assert_ptr_eq(c->b_cont, d);
	ck_assert_ptr_null(d->b_cont);
	ck_assert_uint_eq(msgsize(a), 4);
	freemsg(a);
	finish();
}
END_TEST

START_TEST(test_unlinkb_detaches_the_first_block_and_returns_the_rest)
{
	mblk_t *a, *b, *c;

	boot(USTREAMS_MEM_DEFAULT);
	a = mkblk(1, 'a');
	b = mkblk(1, 'b');
	c = mkblk(1, 'c');
	a->b_cont = b;
	b->b_cont = c;
	ck_assert_ptr_eq(unlinkb(a), b);
	ck_assert_ptr_null(a->b_cont);
	ck_assert_ptr_eq(b->b_cont, c);
	ck_assert_ptr_eq(unlinkb(c), NULL);
	freeb(a);
	freemsg(b);
	finish();
}
END_TEST

START_TEST(test_rmvb_of_the_first_block_returns_the_second)
{
	mblk_t *a, *b, *c;

	boot(USTREAMS_MEM_DEFAULT);
	a = mkblk(1, 'a');
	b = mkblk(1, 'b');
	c = mkblk(1, 'c');
	a->b_cont = b;
	b->b_cont = c;
	ck_assert_ptr_eq(rmvb(a, a), b);
	ck_assert_ptr_null(a->b_cont);
	ck_assert_ptr_eq(b->b_cont, c);
	freeb(a);
	freemsg(b);
	finish();
}
END_TEST

START_TEST(test_rmvb_of_a_middle_block_links_its_neighbours)
{
	mblk_t *a, *b, *c;

	boot(USTREAMS_MEM_DEFAULT);
	a = mkblk(1, 'a');
	b = mkblk(1, 'b');
	c = mkblk(1, 'c');
	a->b_cont = b;
	b->b_cont = c;
	ck_assert_ptr_eq(rmvb(a, b), a);
	ck_assert_ptr_eq(a->b_cont, c);
	ck_assert_ptr_null(b->b_cont);
	ck_assert_ptr_null(c->b_cont);
	freeb(b);
	freemsg(a);
	finish();
}
END_TEST

START_TEST(test_rmvb_of_the_last_block_ends_the_message_before_it)
{
	mblk_t *a, *b, *c;

	boot(USTREAMS_MEM_DEFAULT);
	a = mkblk(1, 'a');
	b = mkblk(1, 'b');
	c = mkblk(1, 'c');
	a->b_cont = b;
	b->b_cont = c;
	ck_assert_ptr_eq(rmvb(a, c), a);
	ck_assert_ptr_eq(a->b_cont, b);
	ck_assert_ptr_null(b->b_cont);
	freeb(c);
	freemsg(a);
	finish();
}
END_TEST

START_TEST(test_rmvb_of_the_only_block_returns_null)
{
	mblk_t *a;

	boot(USTREAMS_MEM_DEFAULT);
	a = mkblk(1, 'a');
	ck_assert_ptr_null(rmvb(a, a));
	ck_assert_ptr_null(a->b_cont);
	freeb(a);
	finish();
}
END_TEST

START_TEST(test_rmvb_of_a_block_not_in_the_message_returns_minus_one)
{
	mblk_t *a, *b, *x, *y;

	boot(USTREAMS_MEM_DEFAULT);
	a = mkblk(1, 'a');
	b = mkblk(1, 'b');
	x = mkblk(1, 'x');
	y = mkblk(1, 'y');
	a->b_cont = b;
	x->b_cont = y;
	ck_assert_ptr_eq(rmvb(a, x), (mblk_t *)-1);
	ck_assert_ptr_eq(a->b_cont, b);
	ck_assert_ptr_null(b->b_cont);
	ck_assert_ptr_eq(x->b_cont, y);
	freemsg(a);
	freemsg(x);
	finish();
}
END_TEST

/*
 * msgdsize and msgsize
 */

START_TEST(test_msgdsize_counts_only_m_data_blocks)
{
	mblk_t *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = mkblk_type(16, 0, M_PROTO);
	linkb(mp, mkblk(3, 0));
	linkb(mp, mkblk_type(40, 0, M_CTL));
	linkb(mp, mkblk(100, 0));
	ck_assert_int_eq(msgdsize(mp), 103);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_msgsize_counts_every_block_of_every_type)
{
	mblk_t *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = mkblk_type(16, 0, M_PROTO);
	linkb(mp, mkblk(3, 0));
	linkb(mp, mkblk_type(40, 0, M_CTL));
	linkb(mp, mkblk(100, 0));
	ck_assert_uint_eq(msgsize(mp), 159);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_msgdsize_and_msgsize_count_the_window_not_the_buffer)
{
	mblk_t *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = mkblk(100, 0);
	mp->b_rptr += 30;
	mp->b_wptr -= 20;
	linkb(mp, allocb(500, BPRI_HI));
	ck_assert_ptr_nonnull(mp->b_cont);
	ck_assert_int_eq(msgdsize(mp), 50);
	ck_assert_uint_eq(msgsize(mp), 50);
	freemsg(mp);
	finish();
}
END_TEST

/*
 * pullupmsg
 */

START_TEST(test_pullupmsg_minus_one_joins_3_100_1_700_into_the_first_block)
{
	mblk_t *b[4], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	ck_assert_ptr_eq(mp, b[0]);
	ck_assert_ptr_null(mp->b_cont);
	ck_assert_int_eq(MBLKL(mp), 804);
	assert_804_bytes(mp->b_rptr);
	ck_assert_int_eq(DB_TYPE(mp), M_DATA);
	ck_assert_int_eq(DB_REF(mp), 1);
	ck_assert_uint_eq((uintptr_t)mp->b_rptr % sizeof (long), 0);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_frees_the_blocks_it_emptied)
{
	mblk_t *b[4], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	/* 3 and 1 bytes: class 64; 100: class 128; 700: class 1152. */
	ck_assert_uint_eq(class_inuse("64"), 2);
	ck_assert_uint_eq(class_inuse("128"), 1);
	ck_assert_uint_eq(class_inuse("1152"), 1);
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	/* mp's old buffer stays with it; the new 804 bytes are class 1152. */
	ck_assert_uint_eq(class_inuse("64"), 1);
	ck_assert_uint_eq(class_inuse("128"), 0);
	ck_assert_uint_eq(class_inuse("1152"), 1);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_len_inside_a_block_leaves_its_rest_linked_after_mp)
{
	mblk_t *b[4], *mp;
	unsigned char *rptr1;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	rptr1 = b[1]->b_rptr;
	ck_assert_int_eq(pullupmsg(mp, 53), 1);
	ck_assert_ptr_eq(mp, b[0]);
	ck_assert_int_eq(MBLKL(mp), 53);
	assert_bytes(mp->b_rptr, 3, 'a');
	assert_bytes(mp->b_rptr + 3, 50, 0x00);
	ck_assert_ptr_eq(mp->b_cont, b[1]);
	ck_assert_ptr_eq(b[1]->b_rptr, rptr1 + 50);
	assert_block(b[1], 50, 0x32);
	ck_assert_ptr_eq(b[1]->b_cont, b[2]);
	assert_block(b[2], 1, 0xee);
	ck_assert_ptr_eq(b[2]->b_cont, b[3]);
	assert_block(b[3], 700, 0x80);
	ck_assert_uint_eq(msgsize(mp), 804);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_len_at_a_block_boundary_links_the_next_block)
{
	mblk_t *b[4], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	ck_assert_int_eq(pullupmsg(mp, 103), 1);
	ck_assert_int_eq(MBLKL(mp), 103);
	assert_bytes(mp->b_rptr, 3, 'a');
	assert_bytes(mp->b_rptr + 3, 100, 0x00);
	ck_assert_ptr_eq(mp->b_cont, b[2]);
	assert_block(b[2], 1, 0xee);
	ck_assert_ptr_eq(b[2]->b_cont, b[3]);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_past_the_end_returns_0_and_changes_nothing)
{
	mblk_t *b[4], *mp;
	dblk_t *db0;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	db0 = mp->b_datap;
	ck_assert_int_eq(pullupmsg(mp, 805), 0);
	ck_assert_ptr_eq(mp->b_datap, db0);
	assert_msg_3_100_1_700(mp, b);
	ck_assert_int_eq(pullupmsg(mp, 100000), 0);
	assert_msg_3_100_1_700(mp, b);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_of_an_aligned_block_holding_len_changes_nothing)
{
	mblk_t *mp, *tail;
	dblk_t *db0;

	boot(USTREAMS_MEM_DEFAULT);
	mp = mkblk(100, 0x00);
	tail = mkblk(5, 0x70);
	mp->b_cont = tail;
	db0 = mp->b_datap;
	ck_assert_uint_eq((uintptr_t)mp->b_rptr % sizeof (long), 0);
	ck_assert_int_eq(pullupmsg(mp, 60), 1);
	ck_assert_ptr_eq(mp->b_datap, db0);
	assert_block(mp, 100, 0x00);
	ck_assert_ptr_eq(mp->b_cont, tail);
	assert_block(tail, 5, 0x70);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_fails_past_a_block_of_another_type)
{
	mblk_t *mp, *p1, *d;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_proto_8_4_data_100(&p1, &d);
	ck_assert_int_eq(pullupmsg(mp, 13), 0);
	assert_block(mp, 8, 0x01);
	ck_assert_ptr_eq(mp->b_cont, p1);
	assert_block(p1, 4, 0x09);
	ck_assert_ptr_eq(p1->b_cont, d);
	assert_block(d, 100, 0x00);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_minus_one_joins_only_the_leading_sequence)
{
	mblk_t *mp, *p1, *d;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_proto_8_4_data_100(&p1, &d);
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	assert_block(mp, 12, 0x01);
	ck_assert_int_eq(DB_TYPE(mp), M_PROTO);
	ck_assert_ptr_eq(mp->b_cont, d);
	assert_block(d, 100, 0x00);
	ck_assert_int_eq(DB_TYPE(d), M_DATA);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_keeps_the_band_and_flags_of_mp)
{
	mblk_t *b[4], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	mp->b_band = 7;
	mp->b_flag = MSGDELIM;
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	ck_assert_int_eq(mp->b_band, 7);
	ck_assert_int_eq(mp->b_flag, MSGDELIM);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_minus_one_aligns_a_lone_misaligned_block)
{
	mblk_t *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = allocb(64, BPRI_HI);
	ck_assert_ptr_nonnull(mp);
	mp->b_rptr += 1;
	mp->b_wptr = mp->b_rptr;
	for (int i = 0; i < 10; i++)
		*mp->b_wptr++ = (unsigned char)(0x30 + i);
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	ck_assert_uint_eq((uintptr_t)mp->b_rptr % sizeof (long), 0);
	assert_block(mp, 10, 0x30);
	ck_assert_ptr_null(mp->b_cont);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_of_a_misaligned_first_block_keeps_the_rest_of_it)
{
	mblk_t *mp, *tail;

	boot(USTREAMS_MEM_DEFAULT);
	mp = allocb(64, BPRI_HI);
	ck_assert_ptr_nonnull(mp);
	mp->b_rptr += 1;
	mp->b_wptr = mp->b_rptr;
	for (int i = 0; i < 10; i++)
		*mp->b_wptr++ = (unsigned char)(0x30 + i);
	tail = mkblk(5, 0x70);
	mp->b_cont = tail;

	ck_assert_int_eq(pullupmsg(mp, 4), 1);
	ck_assert_uint_eq((uintptr_t)mp->b_rptr % sizeof (long), 0);
	assert_block(mp, 4, 0x30);
	assert_block(mp->b_cont, 6, 0x34);
	ck_assert_ptr_eq(mp->b_cont->b_cont, tail);
	assert_block(tail, 5, 0x70);
	ck_assert_ptr_null(tail->b_cont);
	ck_assert_uint_eq(msgsize(mp), 15);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_minus_one_of_empty_blocks_succeeds)
{
	mblk_t *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = allocb(0, BPRI_HI);
	ck_assert_ptr_nonnull(mp);
	linkb(mp, allocb(0, BPRI_HI));
	ck_assert_ptr_nonnull(mp->b_cont);
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	ck_assert_int_eq(MBLKL(mp), 0);
	ck_assert_uint_eq(msgsize(mp), 0);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_of_a_misaligned_block_at_refmax_fails_cleanly)
{
	static mblk_t *dups[DBLK_REFMAX];
	struct ustreams_strstat before, after;
	mblk_t *mp, *tail;

	boot(USTREAMS_MEM_DEFAULT);
	mp = allocb(64, BPRI_HI);
	ck_assert_ptr_nonnull(mp);
	mp->b_rptr += 1;
	mp->b_wptr = mp->b_rptr;
	for (int i = 0; i < 10; i++)
		*mp->b_wptr++ = (unsigned char)(0x30 + i);
	tail = mkblk(5, 0x70);
	mp->b_cont = tail;
	for (int i = 0; i < 254; i++) {
		dups[i] = dupb(mp);
		ck_assert_ptr_nonnull(dups[i]);
	}
	before = strstat_now();

	/* The 6 bytes left of mp's block need a 256th reference: refused. */
	ck_assert_int_eq(pullupmsg(mp, 4), 0);

	after = strstat_now();
	assert_block(mp, 10, 0x30);
	ck_assert_ptr_eq(mp->b_cont, tail);
	assert_block(tail, 5, 0x70);
	ck_assert_int_eq(DB_REF(mp), 255);
	ck_assert_uint_eq(after.ss_mem.ms_inuse, before.ss_mem.ms_inuse);
	for (unsigned c = 0; c < after.ss_nclass; c++)
		ck_assert_uint_eq(after.ss_class[c].cs_inuse,
		    before.ss_class[c].cs_inuse);
	for (int i = 0; i < 254; i++)
		freeb(dups[i]);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_of_a_shared_home_block_then_free_original_first)
{
	mblk_t *b[4], *mp, *dp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	dp = dupb(mp);
	ck_assert_ptr_nonnull(dp);
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	assert_804_bytes(mp->b_rptr);
	assert_block(dp, 3, 'a');

	freemsg(mp);
	assert_block(dp, 3, 'a');
	ck_assert_uint_eq(class_inuse("64"), 1);
	ck_assert_uint_eq(class_inuse("mblk"), 1);
	freeb(dp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_of_a_shared_home_block_then_free_the_dup_first)
{
	mblk_t *b[4], *mp, *dp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	dp = dupb(mp);
	ck_assert_ptr_nonnull(dp);
	ck_assert_int_eq(pullupmsg(mp, -1), 1);

	freeb(dp);
	ck_assert_uint_eq(class_inuse("mblk"), 0);
	/* mp's home buffer stays in use as long as mp itself. */
	ck_assert_uint_eq(class_inuse("64"), 1);
	assert_804_bytes(mp->b_rptr);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_of_a_dup_then_free_in_either_order)
{
	mblk_t *b[4], *mp, *dp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	dp = dupmsg(mp);
	ck_assert_ptr_nonnull(dp);
	ck_assert_int_eq(pullupmsg(dp, -1), 1);
	ck_assert_ptr_null(dp->b_cont);
	assert_804_bytes(dp->b_rptr);
	assert_msg_3_100_1_700(mp, b);
	freemsg(dp);
	assert_msg_3_100_1_700(mp, b);
	freemsg(mp);
	harness_assert_no_block_in_use("test_msg");

	mp = msg_3_100_1_700(b);
	dp = dupmsg(mp);
	ck_assert_ptr_nonnull(dp);
	ck_assert_int_eq(pullupmsg(dp, -1), 1);
	freemsg(mp);
	assert_804_bytes(dp->b_rptr);
	freemsg(dp);
	finish();
}
END_TEST

START_TEST(test_pullupmsg_twice_then_free_leaves_nothing_in_use)
{
	mblk_t *b[4], *mp, *dp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	ck_assert_int_eq(pullupmsg(mp, 53), 1);
	dp = dupb(mp);
	ck_assert_ptr_nonnull(dp);
	ck_assert_int_eq(pullupmsg(mp, -1), 1);
	assert_804_bytes(mp->b_rptr);
	ck_assert_ptr_null(mp->b_cont);
	assert_bytes(dp->b_rptr, 3, 'a');
	assert_bytes(dp->b_rptr + 3, 50, 0x00);
	ck_assert_int_eq(MBLKL(dp), 53);
	freemsg(mp);
	freeb(dp);
	finish();
}
END_TEST

/*
 * msgpullup
 */

START_TEST(test_msgpullup_puts_len_bytes_in_one_block_and_copies_the_rest)
{
	mblk_t *b[4], *mp, *np;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	np = msgpullup(mp, 53);
	ck_assert_ptr_nonnull(np);
	assert_msg_3_100_1_700(mp, b);

	assert_bytes(np->b_rptr, 3, 'a');
	assert_bytes(np->b_rptr + 3, 50, 0x00);
	ck_assert_int_eq(MBLKL(np), 53);
	assert_block(np->b_cont, 50, 0x32);
	assert_block(np->b_cont->b_cont, 1, 0xee);
	assert_block(np->b_cont->b_cont->b_cont, 700, 0x80);
	ck_assert_ptr_null(np->b_cont->b_cont->b_cont->b_cont);
	for (mblk_t *c = np; c != NULL; c = c->b_cont) {
		for (int i = 0; i < 4; i++)
			ck_assert_ptr_ne(c->b_datap, b[i]->b_datap);
		ck_assert_int_eq(DB_REF(c), 1);
	}
	freemsg(np);
	assert_msg_3_100_1_700(mp, b);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_msgpullup_result_is_independent_of_the_original)
{
	mblk_t *b[4], *mp, *np;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	np = msgpullup(mp, 53);
	ck_assert_ptr_nonnull(np);
	memset(np->b_rptr, 0xff, 53);
	memset(np->b_cont->b_rptr, 0xff, 50);
	memset(np->b_cont->b_cont->b_cont->b_rptr, 0xff, 700);
	assert_msg_3_100_1_700(mp, b);

	memset(b[3]->b_rptr, 0x00, 700);
	ck_assert_int_eq(np->b_cont->b_cont->b_cont->b_rptr[0], 0xff);
	ck_assert_int_eq(np->b_cont->b_cont->b_cont->b_rptr[699], 0xff);
	freemsg(np);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_msgpullup_minus_one_pulls_up_the_leading_sequence)
{
	mblk_t *mp, *p1, *d, *np;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_proto_8_4_data_100(&p1, &d);
	mp->b_band = 3;
	np = msgpullup(mp, -1);
	ck_assert_ptr_nonnull(np);
	assert_block(np, 12, 0x01);
	ck_assert_int_eq(DB_TYPE(np), M_PROTO);
	ck_assert_int_eq(np->b_band, 3);
	ck_assert_uint_eq((uintptr_t)np->b_rptr % sizeof (long), 0);
	ck_assert_ptr_nonnull(np->b_cont);
	ck_assert_ptr_ne(np->b_cont, d);
	assert_block(np->b_cont, 100, 0x00);
	ck_assert_int_eq(DB_TYPE(np->b_cont), M_DATA);
	ck_assert_ptr_null(np->b_cont->b_cont);
	ck_assert_ptr_eq(mp->b_cont, p1);
	ck_assert_ptr_eq(p1->b_cont, d);
	freemsg(np);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_msgpullup_of_exactly_the_leading_sequence_takes_it_all)
{
	mblk_t *mp, *p1, *d, *np;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_proto_8_4_data_100(&p1, &d);
	np = msgpullup(mp, 12);
	ck_assert_ptr_nonnull(np);
	assert_block(np, 12, 0x01);
	ck_assert_int_eq(DB_TYPE(np), M_PROTO);
	ck_assert_ptr_nonnull(np->b_cont);
	assert_block(np->b_cont, 100, 0x00);
	ck_assert_ptr_null(np->b_cont->b_cont);
	freemsg(np);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_msgpullup_longer_than_the_leading_sequence_returns_null)
{
	struct ustreams_strstat before, after;
	mblk_t *mp, *p1, *d;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_proto_8_4_data_100(&p1, &d);
	before = strstat_now();
	ck_assert_ptr_null(msgpullup(mp, 13));
	after = strstat_now();
	ck_assert_uint_eq(after.ss_mem.ms_inuse, before.ss_mem.ms_inuse);
	assert_block(mp, 8, 0x01);
	ck_assert_ptr_eq(mp->b_cont, p1);
	ck_assert_ptr_eq(p1->b_cont, d);
	freemsg(mp);
	finish();
}
END_TEST

/*
 * adjmsg
 */

START_TEST(test_adjmsg_trims_the_head_within_the_first_block)
{
	mblk_t *b[4], *mp;
	unsigned char *rptr0;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	rptr0 = mp->b_rptr;
	ck_assert_int_eq(adjmsg(mp, 2), 1);
	ck_assert_ptr_eq(mp->b_rptr, rptr0 + 2);
	assert_block(mp, 1, 'c');
	ck_assert_ptr_eq(mp->b_cont, b[1]);
	assert_block(b[1], 100, 0x00);
	ck_assert_int_eq(msgdsize(mp), 802);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_adjmsg_head_trim_across_blocks_removes_emptied_ones_but_first)
{
	mblk_t *b[4], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	ck_assert_int_eq(adjmsg(mp, 110), 1);
	ck_assert_ptr_eq(mp, b[0]);
	ck_assert_int_eq(MBLKL(mp), 0);
	ck_assert_ptr_eq(mp->b_cont, b[3]);
	assert_block(b[3], 694, 0x86);
	ck_assert_int_eq(msgdsize(mp), 694);
	/* The 100 and the 1 byte blocks were freed. */
	ck_assert_uint_eq(class_inuse("128"), 0);
	ck_assert_uint_eq(class_inuse("64"), 1);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_adjmsg_tail_trim_across_blocks)
{
	mblk_t *b[4], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	ck_assert_int_eq(adjmsg(mp, -751), 1);
	ck_assert_ptr_eq(mp, b[0]);
	assert_block(mp, 3, 'a');
	ck_assert_ptr_eq(mp->b_cont, b[1]);
	assert_block(b[1], 50, 0x00);
	ck_assert_ptr_null(b[1]->b_cont);
	ck_assert_int_eq(msgdsize(mp), 53);
	/* The 700 and the 1 byte blocks were freed. */
	ck_assert_uint_eq(class_inuse("1152"), 0);
	ck_assert_uint_eq(class_inuse("64"), 1);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_adjmsg_of_the_whole_message_from_the_head_leaves_the_first)
{
	mblk_t *b[4], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	ck_assert_int_eq(adjmsg(mp, 804), 1);
	ck_assert_ptr_eq(mp, b[0]);
	ck_assert_int_eq(MBLKL(mp), 0);
	ck_assert_ptr_null(mp->b_cont);
	ck_assert_uint_eq(msgsize(mp), 0);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_adjmsg_of_the_whole_message_from_the_tail_leaves_the_first)
{
	mblk_t *b[4], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	ck_assert_int_eq(adjmsg(mp, -804), 1);
	ck_assert_ptr_eq(mp, b[0]);
	ck_assert_int_eq(MBLKL(mp), 0);
	ck_assert_ptr_null(mp->b_cont);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_adjmsg_longer_than_the_message_returns_0_and_changes_nothing)
{
	mblk_t *b[4], *mp;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_3_100_1_700(b);
	ck_assert_int_eq(adjmsg(mp, 805), 0);
	assert_msg_3_100_1_700(mp, b);
	ck_assert_int_eq(adjmsg(mp, -805), 0);
	assert_msg_3_100_1_700(mp, b);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_adjmsg_tail_trim_affects_only_the_leading_m_data_blocks)
{
	mblk_t *mp, *d1, *p;

	boot(USTREAMS_MEM_DEFAULT);
	mp = mkblk(10, 0x10);
	d1 = mkblk(20, 0x20);
	p = mkblk_type(30, 0x30, M_PROTO);
	mp->b_cont = d1;
	d1->b_cont = p;
	ck_assert_int_eq(adjmsg(mp, -25), 1);
	assert_block(mp, 5, 0x10);
	ck_assert_ptr_eq(mp->b_cont, p);
	assert_block(p, 30, 0x30);
	ck_assert_ptr_null(p->b_cont);
	ck_assert_uint_eq(msgsize(mp), 35);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_adjmsg_tail_trim_keeps_an_empty_block_of_another_type)
{
	mblk_t *mp, *d1, *p;

	boot(USTREAMS_MEM_DEFAULT);
	mp = mkblk(10, 0x10);
	d1 = mkblk(20, 0x20);
	p = mkblk_type(0, 0x30, M_PROTO);
	mp->b_cont = d1;
	d1->b_cont = p;
	ck_assert_int_eq(adjmsg(mp, -25), 1);
	assert_block(mp, 5, 0x10);
	ck_assert_ptr_eq(mp->b_cont, p);
	ck_assert_int_eq(MBLKL(p), 0);
	ck_assert_ptr_null(p->b_cont);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_adjmsg_beyond_the_leading_m_data_blocks_fails)
{
	mblk_t *mp, *d1, *p;

	boot(USTREAMS_MEM_DEFAULT);
	mp = mkblk(10, 0x10);
	d1 = mkblk(20, 0x20);
	p = mkblk_type(30, 0x30, M_PROTO);
	mp->b_cont = d1;
	d1->b_cont = p;
	ck_assert_int_eq(adjmsg(mp, -31), 0);
	ck_assert_int_eq(adjmsg(mp, 31), 0);
	assert_block(mp, 10, 0x10);
	ck_assert_ptr_eq(mp->b_cont, d1);
	assert_block(d1, 20, 0x20);
	ck_assert_ptr_eq(d1->b_cont, p);
	assert_block(p, 30, 0x30);
	freemsg(mp);
	finish();
}
END_TEST

/* A message: 10 bytes, an empty block, 5 bytes (e and t returned). */
static mblk_t *
msg_10_0_5(mblk_t **ep, mblk_t **tp)
{
	mblk_t *mp = mkblk(10, 0x10);

	*ep = mkblk(0, 0x20);
	*tp = mkblk(5, 0x30);
	mp->b_cont = *ep;
	(*ep)->b_cont = *tp;
	return (mp);
}

START_TEST(test_adjmsg_of_0_changes_nothing)
{
	struct ustreams_memstat before, after;
	mblk_t *mp, *e, *t;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_10_0_5(&e, &t);
	ck_assert_int_eq(ustreams_memstat(&before), 0);
	ck_assert_int_eq(adjmsg(mp, 0), 1);
	ck_assert_int_eq(ustreams_memstat(&after), 0);
	ck_assert_uint_eq(after.ms_inuse, before.ms_inuse);
	assert_block(mp, 10, 0x10);
	ck_assert_ptr_eq(mp->b_cont, e);
	ck_assert_ptr_eq(e->b_cont, t);
	assert_block(t, 5, 0x30);
	freemsg(mp);
	finish();
}
END_TEST

/* The empty block in the middle is passed over, and so removed. */
START_TEST(test_adjmsg_head_trim_removes_an_empty_block_it_passes)
{
	mblk_t *mp, *e, *t;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_10_0_5(&e, &t);
	ck_assert_int_eq(adjmsg(mp, 12), 1);
	ck_assert_int_eq(MBLKL(mp), 0);
	ck_assert_ptr_eq(mp->b_cont, t);
	ck_assert_int_eq(MBLKL(t), 3);
	ck_assert_uint_eq(t->b_rptr[0], 0x32);
	freemsg(mp);
	finish();
}
END_TEST

/* A tail trim that ends in the last block does not reach the empty one. */
START_TEST(test_adjmsg_tail_trim_leaves_an_empty_block_it_does_not_reach)
{
	mblk_t *mp, *e, *t;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_10_0_5(&e, &t);
	ck_assert_int_eq(adjmsg(mp, -2), 1);
	assert_block(mp, 10, 0x10);
	ck_assert_ptr_eq(mp->b_cont, e);
	ck_assert_int_eq(MBLKL(e), 0);
	ck_assert_ptr_eq(e->b_cont, t);
	assert_block(t, 3, 0x30);
	freemsg(mp);
	finish();
}
END_TEST

/* Working back, it removes the block it empties and the empty one. */
START_TEST(test_adjmsg_tail_trim_removes_the_blocks_it_empties_or_finds_empty)
{
	mblk_t *mp, *e, *t;

	boot(USTREAMS_MEM_DEFAULT);
	mp = msg_10_0_5(&e, &t);
	ck_assert_int_eq(adjmsg(mp, -6), 1);
	assert_block(mp, 9, 0x10);
	ck_assert_ptr_null(mp->b_cont);
	freemsg(mp);
	finish();
}
END_TEST

/*
 * All or nothing: a 256 KiB budget filled on purpose.  BPRI_MED stops at
 * ms_med_limit (90%), BPRI_HI and dupb at the budget.
 */

/* A message of two M_DATA blocks of 10 bytes (class 64, footprint 192). */
static mblk_t *
msg_10_10(void)
{
	mblk_t *mp = mkblk(10, 0x10);

	mp->b_cont = mkblk(10, 0x20);
	return (mp);
}

static void
assert_msg_10_10(mblk_t *mp, mblk_t *b1)
{
	assert_block(mp, 10, 0x10);
	ck_assert_ptr_eq(mp->b_cont, b1);
	assert_block(b1, 10, 0x20);
	ck_assert_ptr_null(b1->b_cont);
}

static void
assert_same_inuse(const struct ustreams_strstat *before,
    const struct ustreams_strstat *after)
{
	ck_assert_uint_eq(after->ss_mem.ms_inuse, before->ss_mem.ms_inuse);
	for (unsigned c = 0; c < after->ss_nclass; c++) {
		ck_assert_msg(after->ss_class[c].cs_inuse ==
		    before->ss_class[c].cs_inuse, "class %s: in use %llu, "
		    "was %llu", after->ss_class[c].cs_name,
		    (unsigned long long)after->ss_class[c].cs_inuse,
		    (unsigned long long)before->ss_class[c].cs_inuse);
	}
}

START_TEST(test_at_the_med_limit_copies_fail_but_dupmsg_succeeds)
{
	struct ustreams_strstat before, after;
	mblk_t *mp, *b1, *hog = NULL, *dp;

	boot(USTREAMS_MEM_MIN);
	mp = msg_10_10();
	b1 = mp->b_cont;
	hog_blocks_to(&hog, med_limit());
	ck_assert_int_eq(testb(0, BPRI_MED), 0);
	before = strstat_now();

	ck_assert_ptr_null(copyb(mp));
	ck_assert_ptr_null(copymsg(mp));
	ck_assert_ptr_null(msgpullup(mp, -1));
	ck_assert_int_eq(pullupmsg(mp, -1), 0);

	after = strstat_now();
	assert_same_inuse(&before, &after);
	ck_assert_uint_eq(after.ss_fail_pri[BPRI_MED],
	    before.ss_fail_pri[BPRI_MED] + 4);
	assert_msg_10_10(mp, b1);

	dp = dupmsg(mp);
	ck_assert_ptr_nonnull(dp);
	ck_assert_ptr_eq(dp->b_datap, mp->b_datap);
	freemsg(dp);
	freemsg(hog);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_copymsg_that_runs_out_after_one_copy_frees_it)
{
	struct ustreams_strstat before, after;
	mblk_t *mp, *b1, *hog = NULL;

	boot(USTREAMS_MEM_MIN);
	mp = msg_10_10();
	b1 = mp->b_cont;
	/* Room for one BPRI_MED block of footprint 192, not two. */
	hog_blocks_to(&hog, med_limit() - 192);
	ck_assert_int_eq(testb(10, BPRI_MED), 1);
	before = strstat_now();

	ck_assert_ptr_null(copymsg(mp));

	after = strstat_now();
	assert_same_inuse(&before, &after);
	ck_assert_uint_eq(class_of(&after, "64")->cs_total,
	    class_of(&before, "64")->cs_total + 1);
	ck_assert_uint_eq(class_of(&after, "64")->cs_fail,
	    class_of(&before, "64")->cs_fail + 1);
	assert_msg_10_10(mp, b1);
	freemsg(hog);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_msgpullup_that_runs_out_on_the_copies_frees_what_it_made)
{
	struct ustreams_strstat before, after;
	mblk_t *mp, *b1, *b2, *hog = NULL;

	boot(USTREAMS_MEM_MIN);
	mp = msg_10_10();
	b1 = mp->b_cont;
	b2 = mkblk(10, 0x30);
	b1->b_cont = b2;
	/* Room for two BPRI_MED blocks of footprint 192, not three. */
	hog_blocks_to(&hog, med_limit() - 384);
	before = strstat_now();

	/* 15 bytes in a new block, then copies of b1's last 5 and of b2. */
	ck_assert_ptr_null(msgpullup(mp, 15));

	after = strstat_now();
	assert_same_inuse(&before, &after);
	ck_assert_uint_eq(class_of(&after, "64")->cs_total,
	    class_of(&before, "64")->cs_total + 2);
	ck_assert_uint_eq(class_of(&after, "64")->cs_fail,
	    class_of(&before, "64")->cs_fail + 1);
	assert_block(mp, 10, 0x10);
	ck_assert_ptr_eq(mp->b_cont, b1);
	assert_block(b1, 10, 0x20);
	ck_assert_ptr_eq(b1->b_cont, b2);
	assert_block(b2, 10, 0x30);
	freemsg(hog);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_dupmsg_that_runs_out_after_one_dup_frees_it)
{
	struct ustreams_strstat before, after;
	mblk_t *mp, *b1, *hog = NULL, *dp;

	boot(USTREAMS_MEM_MIN);
	mp = msg_10_10();
	b1 = mp->b_cont;
	/* Blocks up to 64 bytes short of the budget, headers to the end. */
	hog_blocks_to(&hog, strstat_now().ss_mem.ms_size - 64);
	hog_headers_to(&hog, strstat_now().ss_mem.ms_size);
	ck_assert_uint_eq(strstat_now().ss_mem.ms_size - mem_inuse(), 0);
	ck_assert_ptr_eq(hog->b_datap, hog->b_cont->b_datap);
	/* Give back one header: room for exactly one dupb. */
	dp = hog;
	hog = hog->b_cont;
	freeb(dp);
	ck_assert_uint_eq(strstat_now().ss_mem.ms_size - mem_inuse(), 64);
	before = strstat_now();

	ck_assert_ptr_null(dupmsg(mp));

	after = strstat_now();
	assert_same_inuse(&before, &after);
	ck_assert_uint_eq(class_of(&after, "mblk")->cs_total,
	    class_of(&before, "mblk")->cs_total + 1);
	ck_assert_uint_eq(class_of(&after, "mblk")->cs_fail,
	    class_of(&before, "mblk")->cs_fail + 1);
	ck_assert_int_eq(DB_REF(mp), 1);
	ck_assert_int_eq(DB_REF(b1), 1);
	assert_msg_10_10(mp, b1);

	dp = dupb(mp);
	ck_assert_ptr_nonnull(dp);
	freeb(dp);
	freemsg(hog);
	freemsg(mp);
	finish();
}
END_TEST

START_TEST(test_with_the_budget_full_every_utility_that_allocates_fails)
{
	struct ustreams_strstat before, after;
	mblk_t *mp, *b1, *hog = NULL;

	boot(USTREAMS_MEM_MIN);
	mp = msg_10_10();
	b1 = mp->b_cont;
	hog_blocks_to(&hog, strstat_now().ss_mem.ms_size);
	hog_headers_to(&hog, strstat_now().ss_mem.ms_size);
	ck_assert_ptr_null(allocb(0, BPRI_HI));
	before = strstat_now();

	ck_assert_ptr_null(dupmsg(mp));
	ck_assert_ptr_null(copymsg(mp));
	ck_assert_ptr_null(msgpullup(mp, -1));
	ck_assert_int_eq(pullupmsg(mp, -1), 0);

	after = strstat_now();
	assert_same_inuse(&before, &after);
	assert_msg_10_10(mp, b1);
	freemsg(hog);
	freemsg(mp);
	finish();
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc;

	tc = tcase_create("strsun");
	tcase_add_test(tc, test_datamsg_is_true_for_the_four_data_types);
	tcase_add_test(tc, test_datamsg_is_false_for_control_types);
	tcase_add_test(tc, test_pcmsg_is_true_from_qpctl_up);
	tcase_add_test(tc, test_pcmsg_evaluates_its_argument_once);
	tcase_add_test(tc,
	    test_strsun_macros_measure_a_block_with_headroom_and_tailroom);
	tcase_add_test(tc, test_db_type_reads_and_sets_the_message_type);
	tcase_add_test(tc, test_db_ref_counts_the_blocks_sharing_a_data_block);
	suite_add_tcase(s, tc);

	tc = tcase_create("dup");
	tcase_add_test(tc, test_dupmsg_shares_every_data_block);
	tcase_add_test(tc,
	    test_dupmsg_survives_pullupmsg_and_freemsg_of_the_original);
	tcase_add_test(tc, test_dupb_returns_null_at_dblk_refmax);
	tcase_add_test(tc,
	    test_dupmsg_with_a_block_at_refmax_returns_null_and_frees_its_dups);
	suite_add_tcase(s, tc);

	tc = tcase_create("copy");
	tcase_add_test(tc, test_copyb_keeps_headroom_data_type_band_and_flag);
	tcase_add_test(tc, test_copyb_copies_one_block_only);
	tcase_add_test(tc, test_copyb_of_a_duped_block_is_independent);
	tcase_add_test(tc, test_copymsg_copies_every_block);
	suite_add_tcase(s, tc);

	tc = tcase_create("link");
	tcase_add_test(tc, test_linkb_appends_a_message_after_the_last_block);
	tcase_add_test(tc,
	    test_unlinkb_detaches_the_first_block_and_returns_the_rest);
	tcase_add_test(tc, test_rmvb_of_the_first_block_returns_the_second);
	tcase_add_test(tc, test_rmvb_of_a_middle_block_links_its_neighbours);
	tcase_add_test(tc,
	    test_rmvb_of_the_last_block_ends_the_message_before_it);
	tcase_add_test(tc, test_rmvb_of_the_only_block_returns_null);
	tcase_add_test(tc,
	    test_rmvb_of_a_block_not_in_the_message_returns_minus_one);
	suite_add_tcase(s, tc);

	tc = tcase_create("size");
	tcase_add_test(tc, test_msgdsize_counts_only_m_data_blocks);
	tcase_add_test(tc, test_msgsize_counts_every_block_of_every_type);
	tcase_add_test(tc,
	    test_msgdsize_and_msgsize_count_the_window_not_the_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("pullupmsg");
	tcase_add_test(tc,
	    test_pullupmsg_minus_one_joins_3_100_1_700_into_the_first_block);
	tcase_add_test(tc, test_pullupmsg_frees_the_blocks_it_emptied);
	tcase_add_test(tc,
	    test_pullupmsg_len_inside_a_block_leaves_its_rest_linked_after_mp);
	tcase_add_test(tc,
	    test_pullupmsg_len_at_a_block_boundary_links_the_next_block);
	tcase_add_test(tc,
	    test_pullupmsg_past_the_end_returns_0_and_changes_nothing);
	tcase_add_test(tc,
	    test_pullupmsg_of_an_aligned_block_holding_len_changes_nothing);
	tcase_add_test(tc, test_pullupmsg_fails_past_a_block_of_another_type);
	tcase_add_test(tc,
	    test_pullupmsg_minus_one_joins_only_the_leading_sequence);
	tcase_add_test(tc, test_pullupmsg_keeps_the_band_and_flags_of_mp);
	tcase_add_test(tc,
	    test_pullupmsg_minus_one_aligns_a_lone_misaligned_block);
	tcase_add_test(tc,
	    test_pullupmsg_of_a_misaligned_first_block_keeps_the_rest_of_it);
	tcase_add_test(tc, test_pullupmsg_minus_one_of_empty_blocks_succeeds);
	tcase_add_test(tc,
	    test_pullupmsg_of_a_misaligned_block_at_refmax_fails_cleanly);
	tcase_add_test(tc,
	    test_pullupmsg_of_a_shared_home_block_then_free_original_first);
	tcase_add_test(tc,
	    test_pullupmsg_of_a_shared_home_block_then_free_the_dup_first);
	tcase_add_test(tc, test_pullupmsg_of_a_dup_then_free_in_either_order);
	tcase_add_test(tc,
	    test_pullupmsg_twice_then_free_leaves_nothing_in_use);
	suite_add_tcase(s, tc);

	tc = tcase_create("msgpullup");
	tcase_add_test(tc,
	    test_msgpullup_puts_len_bytes_in_one_block_and_copies_the_rest);
	tcase_add_test(tc,
	    test_msgpullup_result_is_independent_of_the_original);
	tcase_add_test(tc,
	    test_msgpullup_minus_one_pulls_up_the_leading_sequence);
	tcase_add_test(tc,
	    test_msgpullup_of_exactly_the_leading_sequence_takes_it_all);
	tcase_add_test(tc,
	    test_msgpullup_longer_than_the_leading_sequence_returns_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("adjmsg");
	tcase_add_test(tc, test_adjmsg_trims_the_head_within_the_first_block);
	tcase_add_test(tc,
	    test_adjmsg_head_trim_across_blocks_removes_emptied_ones_but_first);
	tcase_add_test(tc, test_adjmsg_tail_trim_across_blocks);
	tcase_add_test(tc,
	    test_adjmsg_of_the_whole_message_from_the_head_leaves_the_first);
	tcase_add_test(tc,
	    test_adjmsg_of_the_whole_message_from_the_tail_leaves_the_first);
	tcase_add_test(tc,
	    test_adjmsg_longer_than_the_message_returns_0_and_changes_nothing);
	tcase_add_test(tc,
	    test_adjmsg_tail_trim_affects_only_the_leading_m_data_blocks);
	tcase_add_test(tc,
	    test_adjmsg_tail_trim_keeps_an_empty_block_of_another_type);
	tcase_add_test(tc, test_adjmsg_beyond_the_leading_m_data_blocks_fails);
	tcase_add_test(tc, test_adjmsg_of_0_changes_nothing);
	tcase_add_test(tc, test_adjmsg_head_trim_removes_an_empty_block_it_passes);
	tcase_add_test(tc,
	    test_adjmsg_tail_trim_leaves_an_empty_block_it_does_not_reach);
	tcase_add_test(tc,
	    test_adjmsg_tail_trim_removes_the_blocks_it_empties_or_finds_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("failure");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc,
	    test_at_the_med_limit_copies_fail_but_dupmsg_succeeds);
	tcase_add_test(tc, test_copymsg_that_runs_out_after_one_copy_frees_it);
	tcase_add_test(tc,
	    test_msgpullup_that_runs_out_on_the_copies_frees_what_it_made);
	tcase_add_test(tc, test_dupmsg_that_runs_out_after_one_dup_frees_it);
	tcase_add_test(tc,
	    test_with_the_budget_full_every_utility_that_allocates_fails);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(msg_suite()));
}
