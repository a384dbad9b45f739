/*
 * The stream head ioctls that look without taking: I_PEEK, I_LIST,
 * I_ATMARK, I_CKBAND, I_GETBAND.
 *
 * The contract is SVR4's streamio(7) (illumos streamio(4I) says the
 * same): I_PEEK copies the first message as getmsg would take it and
 * leaves it; I_LIST names the modules and the driver, top down; I_ATMARK
 * says whether the first message is marked (and, with LASTMARK, the last
 * marked one); I_CKBAND whether a message of a band is queued; I_GETBAND
 * the first message's band.
 *
 * The driver "pk_drv" sends nothing by itself: the tests put messages
 * up its read queue with putnext, under the sim executive, so that the
 * stream head's read queue holds exactly what each test says.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define	MEM_4M		(4u * 1024 * 1024)

static queue_t *pk_rq;

static int
pk_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	pk_rq = q;
	return (0);
}

static int
pk_put(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

static struct module_info pk_minfo = {
	0x7401, "pk_drv", 0, INFPSZ, 1024, 256
};
static struct qinit pk_rinit = {
	pk_put, NULL, pk_open, NULL, NULL, &pk_minfo, NULL
};
static struct qinit pk_winit = {
	pk_put, NULL, NULL, NULL, NULL, &pk_minfo, NULL
};
static struct streamtab pk_info = { &pk_rinit, &pk_winit, NULL, NULL };

static int
pk_start(void)
{
	int error, sd;

	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	error = ustreams_register_driver("pk_drv", &pk_info, 0);
	ck_assert(error == 0 || error == EEXIST);
	ck_assert_int_eq(ustreams_register_builtins(), 0);
	pk_rq = NULL;
	sd = ustreams_open("pk_drv", O_RDWR | O_NONBLOCK);
	ck_assert_int_ge(sd, 0);
	ck_assert_ptr_nonnull(pk_rq);
	return (sd);
}

/* A block of type with text as its bytes. */
static mblk_t *
mkblk(unsigned char type, const char *text)
{
	size_t len = strlen(text);
	mblk_t *mp = allocb((int)len, BPRI_HI);

	ck_assert_ptr_nonnull(mp);
	DB_TYPE(mp) = type;
	memcpy(mp->b_wptr, text, len);
	mp->b_wptr += len;
	return (mp);
}

/* Send up a message: a control part (if ctl) and a data part (if data). */
static void
send_up(unsigned char ctltype, const char *ctl, const char *data,
    unsigned char band, unsigned short flag)
{
	mblk_t *mp = NULL, *dp = NULL;

	if (ctl != NULL)
		mp = mkblk(ctltype, ctl);
	if (data != NULL)
		dp = mkblk(M_DATA, data);
	if (mp != NULL)
		mp->b_cont = dp;
	else
		mp = dp;
	mp->b_band = band;
	mp->b_flag = flag;
	putnext(pk_rq, mp);
}

START_TEST(i_peek_copies_the_first_message_and_leaves_it)
{
	int sd = pk_start();
	char cbuf[16], dbuf[16];
	struct strpeek sp;
	struct strbuf ctl = { sizeof (cbuf), 0, cbuf };
	struct strbuf data = { sizeof (dbuf), 0, dbuf };
	int flags = 0, nbytes = 0;

	memset(&sp, 0, sizeof (sp));
	sp.ctlbuf = (struct strbuf){ sizeof (cbuf), 0, cbuf };
	sp.databuf = (struct strbuf){ sizeof (dbuf), 0, dbuf };
	ck_assert_int_eq(ustreams_ioctl(sd, I_PEEK, &sp), 0);	/* empty */

	send_up(M_PROTO, "CTL", "data", 0, 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PEEK, &sp), 1);
	ck_assert_int_eq(sp.ctlbuf.len, 3);
	ck_assert_int_eq(memcmp(cbuf, "CTL", 3), 0);
	ck_assert_int_eq(sp.databuf.len, 4);
	ck_assert_int_eq(memcmp(dbuf, "data", 4), 0);
	ck_assert_int_eq(sp.flags, 0);

	/* Only a high-priority one, asked for: not this one. */
	sp.flags = RS_HIPRI;
	ck_assert_int_eq(ustreams_ioctl(sd, I_PEEK, &sp), 0);

	/* Smaller buffers take less; maxlen -1 takes nothing. */
	sp.flags = 0;
	sp.ctlbuf.maxlen = -1;
	sp.databuf.maxlen = 2;
	ck_assert_int_eq(ustreams_ioctl(sd, I_PEEK, &sp), 1);
	ck_assert_int_eq(sp.ctlbuf.len, -1);
	ck_assert_int_eq(sp.databuf.len, 2);

	/* Still there, whole. */
	ck_assert_int_eq(ustreams_ioctl(sd, I_NREAD, &nbytes), 1);
	ck_assert_int_eq(nbytes, 4);		/* its data bytes */
	ck_assert_int_eq(ustreams_getmsg(sd, &ctl, &data, &flags), 0);
	ck_assert_int_eq(ctl.len, 3);
	ck_assert_int_eq(data.len, 4);

	/* A data-only message has no control part: len -1. */
	send_up(0, NULL, "xyz", 0, 0);
	sp.ctlbuf.maxlen = sizeof (cbuf);
	sp.databuf.maxlen = sizeof (dbuf);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PEEK, &sp), 1);
	ck_assert_int_eq(sp.ctlbuf.len, -1);
	ck_assert_int_eq(sp.databuf.len, 3);

	/* A high-priority message goes first, and says so. */
	send_up(M_PCPROTO, "HI", NULL, 0, 0);
	sp.flags = RS_HIPRI;
	ck_assert_int_eq(ustreams_ioctl(sd, I_PEEK, &sp), 1);
	ck_assert_int_eq(sp.flags, RS_HIPRI);
	ck_assert_int_eq(sp.ctlbuf.len, 2);
	ck_assert_int_eq(sp.databuf.len, -1);

	sp.flags = 5;
	ck_assert_int_eq(ustreams_ioctl(sd, I_PEEK, &sp), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PEEK, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_list_names_the_modules_and_the_driver_top_down)
{
	int sd = pk_start();
	struct str_mlist names[5];
	struct str_list sl = { 2, names };

	ck_assert_int_eq(ustreams_ioctl(sd, I_LIST, NULL), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "passthru"), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "errmod"), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_LIST, NULL), 3);

	ck_assert_int_eq(ustreams_ioctl(sd, I_LIST, &sl), 0);
	ck_assert_int_eq(sl.sl_nmods, 2);
	ck_assert_str_eq(names[0].l_name, "errmod");
	ck_assert_str_eq(names[1].l_name, "passthru");

	sl.sl_nmods = 5;
	ck_assert_int_eq(ustreams_ioctl(sd, I_LIST, &sl), 0);
	ck_assert_int_eq(sl.sl_nmods, 3);
	ck_assert_str_eq(names[2].l_name, "pk_drv");

	sl.sl_nmods = 0;
	ck_assert_int_eq(ustreams_ioctl(sd, I_LIST, &sl), -1);
	ck_assert_int_eq(errno, EINVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_atmark_looks_at_the_first_message_and_the_marks_behind)
{
	int sd = pk_start();
	char buf[8];

	ck_assert_int_eq(ustreams_ioctl(sd, I_ATMARK, ANYMARK), 0);
	send_up(0, NULL, "m1", 0, MSGMARK);
	send_up(0, NULL, "m2", 0, 0);
	send_up(0, NULL, "m3", 0, MSGMARK);
	ck_assert_int_eq(ustreams_ioctl(sd, I_ATMARK, ANYMARK), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_ATMARK, LASTMARK), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RMSGD), 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 2);
	ck_assert_int_eq(ustreams_ioctl(sd, I_ATMARK, ANYMARK), 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 2);
	ck_assert_int_eq(ustreams_ioctl(sd, I_ATMARK, ANYMARK), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_ATMARK, LASTMARK), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_ATMARK, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_ATMARK, ANYMARK | LASTMARK),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(i_ckband_and_i_getband_see_the_bands_queued)
{
	int sd = pk_start();
	int band = -1;

	ck_assert_int_eq(ustreams_ioctl(sd, I_GETBAND, &band), -1);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(ustreams_ioctl(sd, I_CKBAND, 0), 0);
	send_up(0, NULL, "n0", 0, 0);
	send_up(0, NULL, "b3", 3, 0);
	/* Band 3 goes ahead of band 0. */
	ck_assert_int_eq(ustreams_ioctl(sd, I_GETBAND, &band), 0);
	ck_assert_int_eq(band, 3);
	ck_assert_int_eq(ustreams_ioctl(sd, I_CKBAND, 3), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_CKBAND, 0), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_CKBAND, 5), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_CKBAND, 256), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_CKBAND, -1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GETBAND, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ustreams_close(sd);
}
END_TEST

static Suite *
peek_suite(void)
{
	Suite *s = suite_create("sthead_peek");
	TCase *tc = harness_tcase("looking at the read queue", 30);

	tcase_add_test(tc, i_peek_copies_the_first_message_and_leaves_it);
	tcase_add_test(tc, i_list_names_the_modules_and_the_driver_top_down);
	tcase_add_test(tc,
	    i_atmark_looks_at_the_first_message_and_the_marks_behind);
	tcase_add_test(tc, i_ckband_and_i_getband_see_the_bands_queued);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(peek_suite()));
}
