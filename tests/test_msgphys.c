/*
 * msgphysreq, msgpullup_physreq: messages that meet physical
 * requirements.
 *
 * The contract (SVR5 D3str; streams/msgphys.c for ustreams' reading of
 * it): msgphysreq returns the message itself when every block's data
 * starts on phys_align, crosses no multiple of phys_boundary and the
 * data is in at most phys_max_scgth pieces; otherwise a copy that does,
 * freeing the original; NULL, with the original unchanged, when no copy
 * can meet them.  msgpullup_physreq is msgpullup with a first block from
 * allocb_physreq; the original is never changed.
 *
 * The requirements used: 64-byte alignment, a 4096-byte boundary, at
 * most two pieces, unless a test says otherwise.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ddi.h>
#include <sys/kmem.h>

#include <string.h>

#define	MEM_4M		(4u * 1024 * 1024)
#define	ALIGN		64
#define	BOUNDARY	4096

static physreq_t *
prep(paddr_t align, paddr_t boundary, uchar_t max_scgth)
{
	physreq_t *pr = physreq_alloc(KM_NOSLEEP);

	ck_assert_ptr_nonnull(pr);
	pr->phys_align = align;
	pr->phys_boundary = boundary;
	pr->phys_max_scgth = max_scgth;
	ck_assert_int_eq(physreq_prep(pr, KM_NOSLEEP), 1);
	return (pr);
}

/* A block of type with n bytes, byte i being (seed + i) & 0xff. */
static mblk_t *
mkblk(unsigned char type, size_t n, unsigned seed, size_t skip)
{
	mblk_t *mp = allocb((int)(n + skip), BPRI_HI);

	ck_assert_ptr_nonnull(mp);
	DB_TYPE(mp) = type;
	mp->b_rptr += skip;
	mp->b_wptr += skip;
	for (size_t i = 0; i < n; i++)
		*mp->b_wptr++ = (unsigned char)(seed + i);
	return (mp);
}

/*
 * 600 bytes in three M_DATA blocks of 200, the first starting one byte
 * into its buffer: misaligned, and three pieces.
 */
static mblk_t *
three_blocks(void)
{
	mblk_t *mp = mkblk(M_DATA, 200, 0, 1);

	mp->b_cont = mkblk(M_DATA, 200, 200, 0);
	mp->b_cont->b_cont = mkblk(M_DATA, 200, 400, 0);
	return (mp);
}

/* Does every block of mp meet the requirements? */
static void
assert_meets(mblk_t *mp, paddr_t align, paddr_t boundary, int max_pieces)
{
	int pieces = 0;

	for (; mp != NULL; mp = mp->b_cont) {
		uintptr_t a = (uintptr_t)mp->b_rptr;
		uintptr_t e = (uintptr_t)mp->b_wptr;

		if (a == e)
			continue;
		pieces++;
		ck_assert_uint_eq(a % align, 0);
		if (boundary != 0)
			ck_assert_uint_eq(a / boundary, (e - 1) / boundary);
	}
	if (max_pieces > 0)
		ck_assert_int_le(pieces, max_pieces);
}

/* The bytes of mp's blocks of type, in order, into buf; their count. */
static size_t
bytes_of(mblk_t *mp, unsigned char type, unsigned char *buf)
{
	size_t n = 0;

	for (; mp != NULL; mp = mp->b_cont) {
		if (DB_TYPE(mp) != type)
			continue;
		memcpy(buf + n, mp->b_rptr, (size_t)MBLKL(mp));
		n += (size_t)MBLKL(mp);
	}
	return (n);
}

START_TEST(a_message_that_meets_them_comes_back_itself)
{
	physreq_t *pr;
	mblk_t *mp;

	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	pr = prep(ALIGN, BOUNDARY, 2);
	mp = allocb_physreq(1000, BPRI_MED, pr);
	ck_assert_ptr_nonnull(mp);
	mp->b_wptr += 1000;
	mp->b_cont = allocb(0, BPRI_MED);	/* an empty block: no piece */
	ck_assert_ptr_eq(msgphysreq(mp, pr), mp);
	freemsg(mp);
	physreq_free(pr);
}
END_TEST

START_TEST(a_misaligned_or_scattered_message_is_copied_to_meet_them)
{
	static unsigned char want[600], got[600];
	physreq_t *pr;
	mblk_t *mp, *nmp;

	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	pr = prep(ALIGN, BOUNDARY, 2);
	mp = three_blocks();
	mp->b_band = 3;
	(void) bytes_of(mp, M_DATA, want);
	nmp = msgphysreq(mp, pr);
	ck_assert_ptr_nonnull(nmp);
	ck_assert_ptr_ne(nmp, mp);		/* mp was freed */
	assert_meets(nmp, ALIGN, BOUNDARY, 2);
	ck_assert_ptr_null(nmp->b_cont);	/* one run, one piece */
	ck_assert_int_eq(nmp->b_band, 3);
	ck_assert_uint_eq(bytes_of(nmp, M_DATA, got), 600);
	ck_assert_int_eq(memcmp(got, want, 600), 0);
	freemsg(nmp);
	physreq_free(pr);
}
END_TEST

START_TEST(the_copy_cuts_at_the_boundary_and_keeps_each_type)
{
	static unsigned char want[10000], got[10000];
	physreq_t *pr;
	mblk_t *mp, *nmp;
	int blocks = 0;

	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	pr = prep(ALIGN, BOUNDARY, 0);		/* any number of pieces */
	mp = mkblk(M_PROTO, 40, 7, 1);
	mp->b_cont = mkblk(M_DATA, 5000, 1, 3);
	mp->b_cont->b_cont = mkblk(M_DATA, 5000, 2, 5);
	(void) bytes_of(mp, M_DATA, want);
	nmp = msgphysreq(mp, pr);
	ck_assert_ptr_nonnull(nmp);
	assert_meets(nmp, ALIGN, BOUNDARY, 0);
	ck_assert_int_eq(DB_TYPE(nmp), M_PROTO);
	ck_assert_int_eq(MBLKL(nmp), 40);
	for (mblk_t *bp = nmp->b_cont; bp != NULL; bp = bp->b_cont) {
		ck_assert_int_eq(DB_TYPE(bp), M_DATA);
		ck_assert_int_le(MBLKL(bp), BOUNDARY);
		blocks++;
	}
	ck_assert_int_eq(blocks, 3);		/* 4096 + 4096 + 1808 */
	ck_assert_uint_eq(bytes_of(nmp, M_DATA, got), 10000);
	ck_assert_int_eq(memcmp(got, want, 10000), 0);
	freemsg(nmp);
	physreq_free(pr);
}
END_TEST

START_TEST(too_many_pieces_leave_the_message_unchanged)
{
	static unsigned char want[10000], got[10000];
	physreq_t *pr, *bad;
	mblk_t *mp;

	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	pr = prep(ALIGN, BOUNDARY, 2);
	mp = mkblk(M_DATA, 10000, 9, 1);
	(void) bytes_of(mp, M_DATA, want);
	/* Three pieces at least, two allowed. */
	ck_assert_ptr_null(msgphysreq(mp, pr));
	ck_assert_uint_eq(bytes_of(mp, M_DATA, got), 10000);
	ck_assert_int_eq(memcmp(got, want, 10000), 0);
	/* Not prepared: refused too. */
	bad = physreq_alloc(KM_NOSLEEP);
	ck_assert_ptr_null(msgphysreq(mp, bad));
	ck_assert_ptr_null(msgpullup_physreq(mp, 10, bad));
	ck_assert_ptr_null(msgphysreq(NULL, pr));
	freemsg(mp);
	physreq_free(bad);
	physreq_free(pr);
}
END_TEST

START_TEST(msgpullup_physreq_copies_the_first_bytes_into_a_block_that_meets)
{
	static unsigned char want[600], got[600];
	physreq_t *pr;
	mblk_t *mp, *nmp;

	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	pr = prep(ALIGN, BOUNDARY, 0);
	mp = three_blocks();
	(void) bytes_of(mp, M_DATA, want);

	nmp = msgpullup_physreq(mp, 300, pr);
	ck_assert_ptr_nonnull(nmp);
	ck_assert_int_eq(MBLKL(nmp), 300);
	ck_assert_uint_eq((uintptr_t)nmp->b_rptr % ALIGN, 0);
	ck_assert_uint_eq(bytes_of(nmp, M_DATA, got), 600);
	ck_assert_int_eq(memcmp(got, want, 600), 0);
	freemsg(nmp);
	/* The original is untouched. */
	ck_assert_uint_eq(bytes_of(mp, M_DATA, got), 600);
	ck_assert_int_eq(memcmp(got, want, 600), 0);
	ck_assert_int_eq(MBLKL(mp), 200);

	nmp = msgpullup_physreq(mp, -1, pr);
	ck_assert_ptr_nonnull(nmp);
	ck_assert_int_eq(MBLKL(nmp), 600);
	ck_assert_ptr_null(nmp->b_cont);
	freemsg(nmp);

	ck_assert_ptr_null(msgpullup_physreq(mp, 601, pr));
	ck_assert_ptr_null(msgpullup_physreq(mp, -2, pr));
	freemsg(mp);

	/* More than the boundary cannot be one block. */
	mp = mkblk(M_DATA, 5000, 0, 0);
	ck_assert_ptr_null(msgpullup_physreq(mp, 5000, pr));
	nmp = msgpullup_physreq(mp, 4096, pr);
	ck_assert_ptr_nonnull(nmp);
	assert_meets(nmp, ALIGN, BOUNDARY, 0);
	freemsg(nmp);
	freemsg(mp);
	physreq_free(pr);
}
END_TEST

static Suite *
msgphys_suite(void)
{
	Suite *s = suite_create("msgphys");
	TCase *tc = harness_tcase("physical requirements", 30);

	tcase_add_test(tc, a_message_that_meets_them_comes_back_itself);
	tcase_add_test(tc,
	    a_misaligned_or_scattered_message_is_copied_to_meet_them);
	tcase_add_test(tc, the_copy_cuts_at_the_boundary_and_keeps_each_type);
	tcase_add_test(tc, too_many_pieces_leave_the_message_unchanged);
	tcase_add_test(tc,
	    msgpullup_physreq_copies_the_first_bytes_into_a_block_that_meets);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(msgphys_suite()));
}
