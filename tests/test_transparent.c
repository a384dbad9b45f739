/*
 * Transparent ioctls: an ioctl command the stream head does not know goes
 * down as an M_IOCTL with ioc_count TRANSPARENT and the caller's argument;
 * the driver asks for the caller's data with M_COPYIN and gives data back
 * with M_COPYOUT, the stream head answering each with M_IOCDATA; and
 * mcopyin, mcopyout and miocpullup, the helpers that build them.
 *
 * The contract (SVR4 STREAMS Programmer's Guide, transparent ioctls; the
 * illumos 9F pages of the helpers): the copies are made against the
 * caller's memory; a copy that fails answers with a non-zero cp_rval, the
 * module frees that M_IOCDATA and does not answer, and the ioctl fails
 * with EFAULT.  ustreams' choices: unknown commands of the STREAMS range
 * ('S' << 8) are refused with EINVAL by the stream head; a copy request
 * answering an I_STR is refused (EPROTO), nothing copied.
 *
 * The driver "ti_drv" keeps one struct ti_val and implements the
 * commands below, counting the M_IOCTLs it sees and the failed
 * M_IOCDATAs it frees.
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

struct ti_val {
	int		a;
	int		b;
};

#define	TI_IOC		('t' << 8)
#define	TI_GET		(TI_IOC | 1)	/* copy the value out: rval 5 */
#define	TI_SET		(TI_IOC | 2)	/* copy a new value in: rval 6 */
#define	TI_INC		(TI_IOC | 3)	/* in, add 1 to each, out: rval 7 */
#define	TI_NAK		(TI_IOC | 4)	/* refused with EPERM */
#define	TI_SETSTR	(TI_IOC | 5)	/* I_STR: the value in ic_dp */
#define	TI_ASKCOPY	(TI_IOC | 6)	/* asks to copy in, whatever came */

static struct ti_val ti_val;
static int ti_ioctls;			/* M_IOCTLs seen */
static int ti_failed;			/* failed M_IOCDATAs freed */
static caddr_t ti_failed_rval;		/* the last one's cp_rval */
static int ti_secret = 0x5ec;		/* what TI_ASKCOPY points at */
static int ti_copied;			/* what it got */

static int
ti_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return (0);
}

/*
 * An M_IOCDATA: a copy went through (or failed).  TI_INC's first step
 * left in cp_private the address to copy out to.
 */
static void
ti_iocdata(queue_t *q, mblk_t *mp)
{
	struct copyresp *cp = (struct copyresp *)(void *)mp->b_rptr;

	if (cp->cp_rval != 0) {
		ti_failed++;
		ti_failed_rval = cp->cp_rval;
		freemsg(mp);
		return;
	}
	switch (cp->cp_cmd) {
	case TI_GET:
		miocack(q, mp, 0, 5);
		break;
	case TI_SET:
		if (mp->b_cont == NULL ||
		    MBLKL(mp->b_cont) < (ssize_t)sizeof (ti_val)) {
			miocnak(q, mp, 0, EPROTO);
			break;
		}
		memcpy(&ti_val, mp->b_cont->b_rptr, sizeof (ti_val));
		miocack(q, mp, 0, 6);
		break;
	case TI_INC:
		if (cp->cp_private != NULL) {
			/* The value is in: change it in place, send it out. */
			struct ti_val *v =
			    (struct ti_val *)(void *)mp->b_cont->b_rptr;

			v->a++;
			v->b++;
			mcopyout(mp, NULL, sizeof (*v), cp->cp_private, NULL);
			qreply(q, mp);
		} else {
			miocack(q, mp, 0, 7);
		}
		break;
	case TI_ASKCOPY:
		memcpy(&ti_copied, mp->b_cont->b_rptr, sizeof (ti_copied));
		miocack(q, mp, 0, 9);
		break;
	default:
		miocnak(q, mp, 0, EINVAL);
		break;
	}
}

static void
ti_ioctl(queue_t *q, mblk_t *mp)
{
	struct iocblk *iocp = (struct iocblk *)(void *)mp->b_rptr;
	bool transparent = iocp->ioc_count == TRANSPARENT;
	mblk_t *dp;
	int error;

	ti_ioctls++;
	switch (iocp->ioc_cmd) {
	case TI_GET:
		if (!transparent || (dp = allocb(sizeof (ti_val),
		    BPRI_MED)) == NULL) {
			miocnak(q, mp, 0, EINVAL);
			return;
		}
		memcpy(dp->b_wptr, &ti_val, sizeof (ti_val));
		dp->b_wptr += sizeof (ti_val);
		mcopyout(mp, NULL, sizeof (ti_val), NULL, dp);
		qreply(q, mp);
		break;
	case TI_SET:
		if (!transparent) {
			miocnak(q, mp, 0, EINVAL);
			return;
		}
		mcopyin(mp, NULL, sizeof (ti_val), NULL);
		qreply(q, mp);
		break;
	case TI_INC: {
		intptr_t arg;

		if (!transparent) {
			miocnak(q, mp, 0, EINVAL);
			return;
		}
		/* Keep the address for the copy out. */
		memcpy(&arg, mp->b_cont->b_rptr, sizeof (arg));
		mcopyin(mp, (void *)arg, sizeof (ti_val), NULL);
		qreply(q, mp);
		break;
	}
	case TI_NAK:
		miocnak(q, mp, 0, EPERM);
		break;
	case TI_SETSTR:
		if ((error = miocpullup(mp, sizeof (ti_val))) != 0) {
			miocnak(q, mp, 0, error);
			return;
		}
		memcpy(&ti_val, mp->b_cont->b_rptr, sizeof (ti_val));
		miocack(q, mp, 0, 8);
		break;
	case TI_ASKCOPY:
		mcopyin(mp, NULL, sizeof (ti_secret), &ti_secret);
		qreply(q, mp);
		break;
	default:
		miocnak(q, mp, 0, EINVAL);
		break;
	}
}

static int
ti_wput(queue_t *q, mblk_t *mp)
{
	switch (DB_TYPE(mp)) {
	case M_IOCTL:
		ti_ioctl(q, mp);
		break;
	case M_IOCDATA:
		ti_iocdata(q, mp);
		break;
	default:
		freemsg(mp);
		break;
	}
	return (0);
}

static int
ti_rput(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

static struct module_info ti_minfo = {
	0x7301, "ti_drv", 0, INFPSZ, 1024, 256
};
static struct qinit ti_rinit = {
	ti_rput, NULL, ti_open, NULL, NULL, &ti_minfo, NULL
};
static struct qinit ti_winit = {
	ti_wput, NULL, NULL, NULL, NULL, &ti_minfo, NULL
};
static struct streamtab ti_info = { &ti_rinit, &ti_winit, NULL, NULL };

static int
ti_start(enum ustreams_exec exec)
{
	int error, sd;

	harness_boot(MEM_4M, exec);
	error = ustreams_register_driver("ti_drv", &ti_info, 0);
	ck_assert(error == 0 || error == EEXIST);
	ti_val = (struct ti_val){ 1, 2 };
	ti_ioctls = ti_failed = ti_copied = 0;
	ti_failed_rval = NULL;
	sd = ustreams_open("ti_drv", O_RDWR);
	ck_assert_int_ge(sd, 0);
	return (sd);
}

START_TEST(a_transparent_ioctl_copies_out_to_the_callers_address)
{
	int sd = ti_start(USTREAMS_EXEC_SIM);
	struct ti_val v = { 0, 0 };

	ck_assert_int_eq(ustreams_ioctl(sd, TI_GET, &v), 5);
	ck_assert_int_eq(v.a, 1);
	ck_assert_int_eq(v.b, 2);
	ck_assert_int_eq(ti_ioctls, 1);
	ustreams_close(sd);
}
END_TEST

START_TEST(a_transparent_ioctl_copies_in_from_the_callers_address)
{
	int sd = ti_start(USTREAMS_EXEC_SIM);
	struct ti_val v = { 10, 20 }, w = { 0, 0 };

	ck_assert_int_eq(ustreams_ioctl(sd, TI_SET, &v), 6);
	ck_assert_int_eq(ti_val.a, 10);
	ck_assert_int_eq(ti_val.b, 20);
	ck_assert_int_eq(ustreams_ioctl(sd, TI_GET, &w), 5);
	ck_assert_int_eq(w.a, 10);
	ustreams_close(sd);
}
END_TEST

static void
copy_in_then_out(enum ustreams_exec exec)
{
	int sd = ti_start(exec);
	struct ti_val v = { 3, 4 };

	ck_assert_int_eq(ustreams_ioctl(sd, TI_INC, &v), 7);
	ck_assert_int_eq(v.a, 4);
	ck_assert_int_eq(v.b, 5);
	ck_assert_int_eq(ustreams_ioctl(sd, TI_INC, &v), 7);
	ck_assert_int_eq(v.a, 5);
	ck_assert_int_eq(ti_failed, 0);
	ustreams_close(sd);
}

START_TEST(copy_in_then_copy_out_in_one_ioctl)
{
	copy_in_then_out(USTREAMS_EXEC_SIM);
}
END_TEST

START_TEST(copy_in_then_copy_out_under_the_threads_executive)
{
	copy_in_then_out(USTREAMS_EXEC_THREADS);
}
END_TEST

START_TEST(a_refused_transparent_ioctl_fails_with_its_error)
{
	int sd = ti_start(USTREAMS_EXEC_SIM);
	struct ti_val v;

	ck_assert_int_eq(ustreams_ioctl(sd, TI_NAK, &v), -1);
	ck_assert_int_eq(errno, EPERM);
	/* A command no one knows: down, and refused by the driver. */
	ck_assert_int_eq(ustreams_ioctl(sd, TI_IOC | 99, &v), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ti_ioctls, 2);
	/* One of the STREAMS range: the stream head's to refuse. */
	ck_assert_int_eq(ustreams_ioctl(sd, STR | 0177, &v), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ti_ioctls, 2);
	ustreams_close(sd);
}
END_TEST

START_TEST(a_bad_address_fails_the_ioctl_with_efault)
{
	int sd = ti_start(USTREAMS_EXEC_SIM);
	struct ti_val v = { 0, 0 };
	void *bad = (void *)(uintptr_t)8;

	/* Copy in: the driver gets a failed M_IOCDATA, frees it. */
	ck_assert_int_eq(ustreams_ioctl(sd, TI_SET, bad), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(ti_failed, 1);
	ck_assert_ptr_eq(ti_failed_rval, (caddr_t)(intptr_t)EFAULT);
	ck_assert_int_eq(ti_val.a, 1);
	/* Copy out. */
	ck_assert_int_eq(ustreams_ioctl(sd, TI_GET, bad), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(ti_failed, 2);
	/* The stream's ioctl slot was given back. */
	ck_assert_int_eq(ustreams_ioctl(sd, TI_GET, &v), 5);
	ck_assert_int_eq(v.b, 2);
	ustreams_close(sd);
}
END_TEST

static int
strioc(int sd, int cmd, void *arg, int len)
{
	struct strioctl sio = { cmd, 0, len, arg };

	return (ustreams_ioctl(sd, I_STR, &sio));
}

START_TEST(i_str_data_comes_whole_through_miocpullup)
{
	int sd = ti_start(USTREAMS_EXEC_SIM);
	struct ti_val v = { 30, 40 };

	ck_assert_int_eq(strioc(sd, TI_SETSTR, &v, sizeof (v)), 8);
	ck_assert_int_eq(ti_val.a, 30);
	ck_assert_int_eq(ti_val.b, 40);
	/* Too little data: miocpullup says EINVAL. */
	ck_assert_int_eq(strioc(sd, TI_SETSTR, &v, sizeof (v) - 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ti_val.a, 30);
	/* A transparent ioctl has no data to pull up. */
	ck_assert_int_eq(ustreams_ioctl(sd, TI_SETSTR, &v), -1);
	ck_assert_int_eq(errno, EINVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(a_copy_request_answering_i_str_is_refused)
{
	int sd = ti_start(USTREAMS_EXEC_SIM);
	int buf = 0;

	ck_assert_int_eq(strioc(sd, TI_ASKCOPY, &buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(ti_failed, 1);
	ck_assert_ptr_eq(ti_failed_rval, (caddr_t)(intptr_t)EPROTO);
	ck_assert_int_eq(buf, 0);
	ck_assert_int_eq(ti_copied, 0);
	/* Transparent, the same request is carried out. */
	ck_assert_int_eq(ustreams_ioctl(sd, TI_ASKCOPY, &buf), 9);
	ck_assert_int_eq(ti_copied, 0x5ec);
	ck_assert_int_eq(ti_failed, 1);
	ustreams_close(sd);
}
END_TEST

static Suite *
transparent_suite(void)
{
	Suite *s = suite_create("transparent");
	TCase *tc = harness_tcase("transparent ioctls", 30);

	tcase_add_test(tc,
	    a_transparent_ioctl_copies_out_to_the_callers_address);
	tcase_add_test(tc,
	    a_transparent_ioctl_copies_in_from_the_callers_address);
	tcase_add_test(tc, copy_in_then_copy_out_in_one_ioctl);
	tcase_add_test(tc, copy_in_then_copy_out_under_the_threads_executive);
	tcase_add_test(tc, a_refused_transparent_ioctl_fails_with_its_error);
	tcase_add_test(tc, a_bad_address_fails_the_ioctl_with_efault);
	tcase_add_test(tc, i_str_data_comes_whole_through_miocpullup);
	tcase_add_test(tc, a_copy_request_answering_i_str_is_refused);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(transparent_suite()));
}
