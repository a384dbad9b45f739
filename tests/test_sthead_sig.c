/*
 * Signals from a stream: I_SETSIG, I_GETSIG, M_SIG, M_PCSIG.
 *
 * The contract is SVR4's streamio(7) and the STREAMS messages: a process
 * registered with I_SETSIG gets SIGPOLL for the events it asked for
 * (SIGURG for banded input with S_BANDURG); a driver's M_PCSIG signal
 * goes at once, its M_SIG when the message reaches the front of the read
 * queue; an M_SIG of SIGPOLL only to a process that asked for S_MSG.
 * ustreams has one process: every signal goes to it (sthead.c).
 *
 * The signals are blocked in every thread of the test (main) and taken
 * with sigtimedwait, so that what is pending is exact, with no handler.  The
 * driver "sg_drv" sends nothing by itself (the tests putnext up its read
 * queue, under the sim executive) and queues what is written, so that
 * its write queue fills and a test can drain it.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ddi.h>
#include <sys/ustreams.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#define	MEM_4M		(4u * 1024 * 1024)

static queue_t *sg_rq, *sg_wq;

static int
sg_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	sg_rq = q;
	sg_wq = WR(q);
	return (0);
}

static int
sg_wput(queue_t *q, mblk_t *mp)
{
	if (DB_TYPE(mp) != M_DATA || !putq(q, mp))
		freemsg(mp);
	return (0);
}

static int
sg_wsrv(queue_t *q)
{
	return (0);		/* the test takes the messages */
}

static int
sg_rput(queue_t *q, mblk_t *mp)
{
	freemsg(mp);
	return (0);
}

static struct module_info sg_minfo = {
	0x7601, "sg_drv", 0, INFPSZ, 100, 50
};
static struct qinit sg_rinit = {
	sg_rput, NULL, sg_open, NULL, NULL, &sg_minfo, NULL
};
static struct qinit sg_winit = {
	sg_wput, sg_wsrv, NULL, NULL, NULL, &sg_minfo, NULL
};
static struct streamtab sg_info = { &sg_rinit, &sg_winit, NULL, NULL };

static sigset_t sg_set;

/* The next pending signal of ours, or 0. */
static int
take_signal(void)
{
	struct timespec zero = { 0, 0 };
	int sig = sigtimedwait(&sg_set, NULL, &zero);

	return (sig < 0 ? 0 : sig);
}

static int
sg_start(void)
{
	int error, sd;

	while (take_signal() != 0)
		;
	harness_boot(MEM_4M, USTREAMS_EXEC_SIM);
	error = ustreams_register_driver("sg_drv", &sg_info, 0);
	ck_assert(error == 0 || error == EEXIST);
	sd = ustreams_open("sg_drv", O_RDWR | O_NONBLOCK);
	ck_assert_int_ge(sd, 0);
	return (sd);
}

/* Send a message of type up, with one byte (or none, for -1). */
static void
send_up(unsigned char type, int byte, unsigned char band)
{
	mblk_t *mp = allocb(1, BPRI_HI);

	ck_assert_ptr_nonnull(mp);
	DB_TYPE(mp) = type;
	if (byte >= 0)
		*mp->b_wptr++ = (unsigned char)byte;
	mp->b_band = band;
	putnext(sg_rq, mp);
}

START_TEST(i_setsig_and_i_getsig_keep_the_events)
{
	int sd = sg_start(), events = 0;

	ck_assert_int_eq(ustreams_ioctl(sd, I_GETSIG, &events), -1);
	ck_assert_int_eq(errno, EINVAL);		/* none asked */
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG, 0x4000), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG, S_BANDURG), -1);
	ck_assert_int_eq(errno, EINVAL);		/* needs S_RDBAND */
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG, S_INPUT | S_HIPRI), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GETSIG, &events), 0);
	ck_assert_int_eq(events, S_INPUT | S_HIPRI);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG, 0), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GETSIG, &events), -1);
	ck_assert_int_eq(errno, EINVAL);
	ustreams_close(sd);
}
END_TEST

START_TEST(input_signals_come_when_the_read_queue_was_empty)
{
	int sd = sg_start();
	char buf[4];

	send_up(M_DATA, 'a', 0);
	ck_assert_int_eq(take_signal(), 0);		/* nobody asked */
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 1);

	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG, S_RDNORM), 0);
	send_up(M_DATA, 'b', 0);
	ck_assert_int_eq(take_signal(), SIGPOLL);
	send_up(M_DATA, 'c', 0);			/* not the first */
	ck_assert_int_eq(take_signal(), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RMSGD), 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 1);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 1);
	/* A banded one is not S_RDNORM's; S_RDBAND with S_BANDURG: SIGURG. */
	send_up(M_DATA, 'd', 2);
	ck_assert_int_eq(take_signal(), 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG,
	    S_RDBAND | S_BANDURG), 0);
	send_up(M_DATA, 'e', 2);
	ck_assert_int_eq(take_signal(), SIGURG);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 1);
	/* S_INPUT: either. */
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG, S_INPUT), 0);
	send_up(M_DATA, 'f', 5);
	ck_assert_int_eq(take_signal(), SIGPOLL);
	ustreams_close(sd);
}
END_TEST

START_TEST(high_priority_error_and_hangup_signal_as_asked)
{
	int sd = sg_start();

	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG,
	    S_HIPRI | S_ERROR | S_HANGUP), 0);
	send_up(M_PCPROTO, 'p', 0);
	ck_assert_int_eq(take_signal(), SIGPOLL);
	send_up(M_DATA, 'x', 0);			/* not asked */
	ck_assert_int_eq(take_signal(), 0);
	send_up(M_ERROR, EIO, 0);
	ck_assert_int_eq(take_signal(), SIGPOLL);
	send_up(M_HANGUP, -1, 0);
	ck_assert_int_eq(take_signal(), SIGPOLL);
	ck_assert_int_eq(take_signal(), 0);
	ustreams_close(sd);
}
END_TEST

START_TEST(m_pcsig_signals_at_once_and_m_sig_at_the_front)
{
	int sd = sg_start();
	char buf[4];

	send_up(M_PCSIG, SIGUSR1, 0);
	ck_assert_int_eq(take_signal(), SIGUSR1);	/* no I_SETSIG needed */
	send_up(M_SIG, SIGUSR1, 0);			/* queue empty: now */
	ck_assert_int_eq(take_signal(), SIGUSR1);

	send_up(M_DATA, 'a', 0);
	send_up(M_SIG, SIGUSR1, 0);
	send_up(M_DATA, 'b', 0);
	ck_assert_int_eq(take_signal(), 0);		/* behind 'a' */
	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RMSGD), 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 1);
	ck_assert_int_eq(buf[0], 'a');
	ck_assert_int_eq(take_signal(), SIGUSR1);	/* reached the front */
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 1);
	ck_assert_int_eq(buf[0], 'b');

	/* A byte-stream read across messages passes an M_SIG between them. */
	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RNORM), 0);
	send_up(M_DATA, 'c', 0);
	send_up(M_DATA, 'd', 0);
	send_up(M_SIG, SIGUSR1, 0);
	send_up(M_DATA, 'e', 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 3);
	ck_assert_int_eq(memcmp(buf, "cde", 3), 0);
	ck_assert_int_eq(take_signal(), SIGUSR1);

	/* SIGPOLL by M_SIG only with S_MSG. */
	send_up(M_SIG, SIGPOLL, 0);
	ck_assert_int_eq(take_signal(), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG, S_MSG), 0);
	send_up(M_SIG, SIGPOLL, 0);
	ck_assert_int_eq(take_signal(), SIGPOLL);
	ustreams_close(sd);
}
END_TEST

START_TEST(s_output_comes_when_the_write_side_has_room_again)
{
	int sd = sg_start();
	char data[40];
	int writes = 0;
	mblk_t *mp;

	memset(data, 'w', sizeof (data));
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETSIG, S_OUTPUT), 0);
	/* The driver keeps what is written: its queue fills (100 bytes). */
	while (ustreams_write(sd, data, sizeof (data)) > 0)
		writes++;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_ge(writes, 3);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(take_signal(), 0);
	/* Drained below the low-water mark: the head is back-enabled. */
	while ((mp = getq(sg_wq)) != NULL)
		freemsg(mp);
	(void) ustreams_sim_run_idle();
	ck_assert_int_eq(take_signal(), SIGPOLL);
	ck_assert_int_eq(ustreams_write(sd, data, sizeof (data)),
	    (ssize_t)sizeof (data));
	ustreams_close(sd);
}
END_TEST

static Suite *
sig_suite(void)
{
	Suite *s = suite_create("sthead_sig");
	TCase *tc = harness_tcase("signals", 30);

	tcase_add_test(tc, i_setsig_and_i_getsig_keep_the_events);
	tcase_add_test(tc, input_signals_come_when_the_read_queue_was_empty);
	tcase_add_test(tc, high_priority_error_and_hangup_signal_as_asked);
	tcase_add_test(tc, m_pcsig_signals_at_once_and_m_sig_at_the_front);
	tcase_add_test(tc,
	    s_output_comes_when_the_write_side_has_room_again);
	suite_add_tcase(s, tc);
	return (s);
}

/*
 * The signals go to the process: blocked here, before the harness makes
 * any thread (its watchdog's, in an unforked run), so that every thread
 * inherits the mask and the signals stay pending for sigtimedwait.
 */
int
main(void)
{
	(void) sigemptyset(&sg_set);
	(void) sigaddset(&sg_set, SIGPOLL);
	(void) sigaddset(&sg_set, SIGURG);
	(void) sigaddset(&sg_set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &sg_set, NULL) != 0)
		return (2);
	return (harness_run(sig_suite()));
}
