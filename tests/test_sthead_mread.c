/*
 * M_READ: with SO_MREADON set by M_SETOPTS, a read that finds the stream
 * head's read queue empty sends an M_READ down, holding the number of
 * bytes asked for (a long), before it waits; SO_MREADOFF stops it.  The
 * contract is SVR4's stream head (streamio(7), M_SETOPTS).
 *
 * The driver "mr_drv" answers each M_READ by sending up as many bytes as
 * were asked for, at most 8, so that a read is served on demand; it
 * counts the M_READs and keeps the last count.  Sim executive.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define	MEM_4M		(4u * 1024 * 1024)

static queue_t *mr_rq;
static int mr_reads;
static long mr_count;

static int
mr_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	mr_rq = q;
	return (0);
}

static int
mr_wput(queue_t *q, mblk_t *mp)
{
	mblk_t *dp;
	long n;

	if (DB_TYPE(mp) != M_READ || MBLKL(mp) < (ssize_t)sizeof (long)) {
		freemsg(mp);
		return (0);
	}
	memcpy(&mr_count, mp->b_rptr, sizeof (mr_count));
	mr_reads++;
	freemsg(mp);
	n = mr_count < 8 ? mr_count : 8;
	if ((dp = allocb((int)n, BPRI_MED)) != NULL) {
		memset(dp->b_wptr, 'r', (size_t)n);
		dp->b_wptr += n;
		qreply(q, dp);
	}
	return (0);
}

static int
mr_rput(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

static struct module_info mr_minfo = {
	0x7701, "mr_drv", 0, INFPSZ, 1024, 256
};
static struct qinit mr_rinit = {
	mr_rput, NULL, mr_open, NULL, NULL, &mr_minfo, NULL
};
static struct qinit mr_winit = {
	mr_wput, NULL, NULL, NULL, NULL, &mr_minfo, NULL
};
static struct streamtab mr_info = { &mr_rinit, &mr_winit, NULL, NULL };

/* M_SETOPTS up, with flags. */
static void
setopts(uint_t flags)
{
	mblk_t *mp = allocb(sizeof (struct stroptions), BPRI_HI);
	struct stroptions *so;

	ck_assert_ptr_nonnull(mp);
	DB_TYPE(mp) = M_SETOPTS;
	so = (struct stroptions *)(void *)mp->b_wptr;
	memset(so, 0, sizeof (*so));
	so->so_flags = flags;
	mp->b_wptr += sizeof (*so);
	putnext(mr_rq, mp);
}

START_TEST(a_read_on_an_empty_queue_asks_the_driver_with_m_read)
{
	char buf[32];
	int error, sd;

	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	error = ustreams_register_driver("mr_drv", &mr_info, 0);
	ck_assert(error == 0 || error == EEXIST);
	mr_reads = 0;
	sd = ustreams_open("mr_drv", O_RDWR | O_NONBLOCK);
	ck_assert_int_ge(sd, 0);

	/* Off by default: nothing asked, nothing to read. */
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(mr_reads, 0);

	setopts(SO_MREADON);
	ck_assert_int_eq(ustreams_read(sd, buf, 5), 5);
	ck_assert_int_eq(mr_reads, 1);
	ck_assert_int_eq(mr_count, 5);
	ck_assert_int_eq(memcmp(buf, "rrrrr", 5), 0);

	/* The driver gives 8 at most: the read takes what came. */
	ck_assert_int_eq(ustreams_read(sd, buf, 20), 8);
	ck_assert_int_eq(mr_reads, 2);
	ck_assert_int_eq(mr_count, 20);
	/* Data already queued: no M_READ. */
	setopts(SO_MREADOFF);
	ck_assert_int_eq(ustreams_read(sd, buf, 3), -1);	/* EAGAIN */
	setopts(SO_MREADON);
	{
		mblk_t *dp = allocb(2, BPRI_MED);

		ck_assert_ptr_nonnull(dp);
		memcpy(dp->b_wptr, "qq", 2);
		dp->b_wptr += 2;
		putnext(mr_rq, dp);
	}
	ck_assert_int_eq(ustreams_read(sd, buf, 3), 2);
	ck_assert_int_eq(mr_reads, 2);
	/* A read of nothing asks for nothing. */
	ck_assert_int_eq(ustreams_read(sd, buf, 0), 0);
	ck_assert_int_eq(mr_reads, 2);

	setopts(SO_MREADOFF);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(mr_reads, 2);
	ustreams_close(sd);
}
END_TEST

static Suite *
mread_suite(void)
{
	Suite *s = suite_create("sthead_mread");
	TCase *tc = harness_tcase("M_READ", 30);

	tcase_add_test(tc, a_read_on_an_empty_queue_asks_the_driver_with_m_read);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(mread_suite()));
}
