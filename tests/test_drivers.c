/*
 * The drivers and modules that come with ustreams -- echo, null, loop,
 * passthru, slow, errmod -- driven through the application calls.
 *
 * Under the sim executive nothing runs until the test runs events
 * (ustreams_sim_run_idle) or a blocking call sleeps, so every count below
 * is exact.  The numbers come from the water marks: the stream head's
 * read queue is full at 5120 bytes and drains below 1024; echo's and
 * loop's write queues at 8192 and 2048; slow's at 4096 and 1024.  Writes
 * of 1024 bytes therefore fill a driver's write queue in 8 messages, a
 * stream head in 5, slow in 4.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ddi.h>
#include <sys/stropts.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define	MSG		1024	/* bytes per message in flow-control tests */

static void
boot_sim(void)
{
	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
}

static int
sopen(const char *name, int oflag)
{
	int sd = ustreams_open(name, oflag);

	ck_assert_msg(sd >= 0, "ustreams_open(%s): errno %d", name, errno);
	return (sd);
}

static void
push(int sd, const char *mod)
{
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, mod), 0);
}

/* I_STR: cmd with len bytes at arg; the ioctl's return value. */
static int
strioc(int sd, int cmd, void *arg, int len)
{
	struct strioctl sio = { cmd, 0, len, arg };

	return (ustreams_ioctl(sd, I_STR, &sio));
}

/* errmod(7): raise an M_ERROR whose data is bytes[0..len). */
static int
errmod_error(int sd, const unsigned char *bytes, int len)
{
	return (strioc(sd, ERRMOD_ERROR, (void *)bytes, len));
}

static int
loop_minor(int sd)
{
	int m = strioc(sd, LOOP_GETMINOR, NULL, 0);

	ck_assert_int_ge(m, 0);
	ck_assert_int_lt(m, LOOP_MAXMINOR);
	return (m);
}

static int
loop_set(int sd, int minor)
{
	return (strioc(sd, LOOP_SET, &minor, sizeof (minor)));
}

/* Two loop streams, joined. */
static void
loop_pair(int oflag, int *ap, int *bp)
{
	*ap = sopen("loop", oflag);
	*bp = sopen("loop", oflag);
	ck_assert_int_eq(loop_set(*ap, loop_minor(*bp)), 0);
}

static void
write_str(int sd, const char *s)
{
	ck_assert_int_eq(ustreams_write(sd, s, strlen(s)), (ssize_t)strlen(s));
}

static void
read_str(int sd, const char *s)
{
	char buf[256];
	ssize_t n = ustreams_read(sd, buf, sizeof (buf));

	ck_assert_int_eq(n, (ssize_t)strlen(s));
	ck_assert_mem_eq(buf, s, strlen(s));
}

/* A MSG-byte message whose first four bytes are seq. */
static ssize_t
write_seq(int sd, uint32_t seq)
{
	char buf[MSG];

	memset(buf, 'a' + (int)(seq % 26), sizeof (buf));
	memcpy(buf, &seq, sizeof (seq));
	return (ustreams_write(sd, buf, sizeof (buf)));
}

/* Read one MSG-byte message and check its sequence number. */
static void
read_seq(int sd, uint32_t seq)
{
	char buf[2 * MSG];
	uint32_t got;

	ck_assert_int_eq(ustreams_read(sd, buf, MSG), MSG);
	memcpy(&got, buf, sizeof (got));
	ck_assert_uint_eq(got, seq);
	ck_assert_int_eq(buf[MSG - 1], 'a' + (int)(seq % 26));
}

/* Read the messages numbered 0 .. n-1, then end of file (hung up). */
static void
read_seqs_then_eof(int sd, uint32_t n)
{
	char buf[16];

	for (uint32_t i = 0; i < n; i++)
		read_seq(sd, i);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 0);
}

/* A non-blocking read finds nothing. */
static void
read_nothing(int sd)
{
	char buf[16];

	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
}

static int
nread(int sd)
{
	int bytes;

	return (ustreams_ioctl(sd, I_NREAD, &bytes));
}

static short
poll_one(int sd, short events)
{
	struct pollfd pfd = { sd, events, 0 };

	ck_assert_int_ge(ustreams_poll(&pfd, 1, 0), 0);
	return (pfd.revents);
}

static size_t
inuse(void)
{
	struct ustreams_memstat ms;

	ck_assert_int_eq(ustreams_memstat(&ms), 0);
	return (ms.ms_inuse);
}

static struct passthru_stats
passthru_stats(int sd)
{
	struct passthru_stats ps;

	memset(&ps, 0xff, sizeof (ps));
	ck_assert_int_eq(strioc(sd, PASSTHRU_GETSTATS, &ps, sizeof (ps)), 0);
	return (ps);
}

/* ---- registration ---- */

START_TEST(register_builtins_is_idempotent)
{
	ck_assert_int_eq(ustreams_register_builtins(), 0);
	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	ck_assert_int_eq(ustreams_register_builtins(), 0);
}
END_TEST

START_TEST(drivers_open_and_modules_push_by_their_own_names_only)
{
	char name[FMNAMESZ + 1];
	int sd;

	boot_sim();
	ck_assert_int_eq(ustreams_open("passthru", O_RDWR), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_int_eq(ustreams_open("errmod", O_RDWR), -1);
	ck_assert_int_eq(errno, ENODEV);
	sd = sopen("echo", O_RDWR);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "loop"), -1);
	ck_assert_int_eq(errno, EINVAL);
	push(sd, "passthru");
	push(sd, "slow");
	push(sd, "errmod");
	ck_assert_int_eq(ustreams_ioctl(sd, I_LOOK, name), 0);
	ck_assert_str_eq(name, "errmod");
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP, 0), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_LOOK, name), 0);
	ck_assert_str_eq(name, "slow");
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

/* ---- echo ---- */

START_TEST(echo_returns_writes_of_every_size_unchanged)
{
	static const size_t sizes[] = { 1, 100, 1024, 4096, 5120, 8192,
	    65536 };
	static char out[65536], in[65536];
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	for (size_t i = 0; i < sizeof (out); i++)
		out[i] = (char)(i * 7 + i / 251);
	for (size_t i = 0; i < sizeof (sizes) / sizeof (sizes[0]); i++) {
		size_t n = sizes[i];

		memset(in, 0, n);
		ck_assert_int_eq(ustreams_write(sd, out, n), (ssize_t)n);
		ck_assert_int_eq(ustreams_read(sd, in, sizeof (in)),
		    (ssize_t)n);
		ck_assert_mem_eq(in, out, n);
	}
	ck_assert_int_eq(nread(sd), 0);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(echo_returns_proto_and_pcproto_messages_with_their_parts)
{
	char cbuf[64], dbuf[64];
	struct strbuf ctl = { 4, 4, "CTL1" }, data = { 7, 7, "payload" };
	struct strbuf rc = { sizeof (cbuf), 0, cbuf };
	struct strbuf rd = { sizeof (dbuf), 0, dbuf };
	int sd, flags;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, &data, 0), 0);
	flags = 0;
	ck_assert_int_eq(ustreams_getmsg(sd, &rc, &rd, &flags), 0);
	ck_assert_int_eq(flags, 0);
	ck_assert_int_eq(rc.len, 4);
	ck_assert_mem_eq(cbuf, "CTL1", 4);
	ck_assert_int_eq(rd.len, 7);
	ck_assert_mem_eq(dbuf, "payload", 7);

	/* A control part alone, high priority. */
	ctl.buf = "PC";
	ctl.len = 2;
	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, NULL, RS_HIPRI), 0);
	flags = 0;
	ck_assert_int_eq(ustreams_getmsg(sd, &rc, &rd, &flags), 0);
	ck_assert_int_eq(flags, RS_HIPRI);
	ck_assert_int_eq(rc.len, 2);
	ck_assert_mem_eq(cbuf, "PC", 2);
	ck_assert_int_eq(rd.len, -1);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(echo_replies_high_priority_before_queued_data)
{
	char cbuf[16], dbuf[16];
	struct strbuf ctl = { 2, 2, "HI" };
	struct strbuf rc = { sizeof (cbuf), 0, cbuf };
	struct strbuf rd = { sizeof (dbuf), 0, dbuf };
	int sd, flags = 0;

	boot_sim();
	sd = sopen("echo", O_RDWR | O_NONBLOCK);
	write_str(sd, "low");
	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, NULL, RS_HIPRI), 0);
	ustreams_sim_run_idle();
	ck_assert_int_eq(ustreams_getmsg(sd, &rc, &rd, &flags), 0);
	ck_assert_int_eq(flags, RS_HIPRI);
	ck_assert_mem_eq(cbuf, "HI", 2);
	read_str(sd, "low");
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(echo_flushw_discards_what_was_not_yet_echoed)
{
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR | O_NONBLOCK);
	write_str(sd, "abc");
	ck_assert_int_gt(ustreams_sim_pending(), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_FLUSH, FLUSHW), 0);
	ustreams_sim_run_idle();
	read_nothing(sd);
	write_str(sd, "def");
	ustreams_sim_run_idle();
	read_str(sd, "def");
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

/* I_FLUSHBAND of the write side takes one band from what waits in echo. */
START_TEST(echo_flushband_discards_only_that_band)
{
	struct strbuf b1 = { 2, 2, "b1" }, b2 = { 2, 2, "b2" };
	struct bandinfo bi = { 1, FLUSHW };
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR | O_NONBLOCK);
	ck_assert_int_eq(ustreams_putpmsg(sd, NULL, &b1, 1, MSG_BAND), 0);
	write_str(sd, "n0");
	ck_assert_int_eq(ustreams_putpmsg(sd, NULL, &b2, 1, MSG_BAND), 0);
	write_str(sd, "n1");
	ck_assert_int_eq(ustreams_ioctl(sd, I_FLUSHBAND, &bi), 0);
	ustreams_sim_run_idle();
	read_str(sd, "n0n1");			/* a byte stream: one read */
	read_nothing(sd);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

/*
 * Every close gives its minor back: twice as many clone opens as there
 * are minors, one after the other, all succeed.
 */
static void
open_close_many(const char *name)
{
	for (int i = 0; i < 2 * 256; i++)
		ck_assert_int_eq(ustreams_close(sopen(name, O_RDWR)), 0);
}

START_TEST(echo_and_null_give_their_minors_back_on_close)
{
	boot_sim();
	open_close_many("echo");
	open_close_many("null");
}
END_TEST

START_TEST(echo_turns_flushr_back_up)
{
	struct passthru_stats ps;
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR | O_NONBLOCK);
	push(sd, "passthru");
	write_str(sd, "x");
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(sd), 1);
	ps = passthru_stats(sd);
	ck_assert_uint_eq(ps.ps_down_msgs, 1);
	ck_assert_uint_eq(ps.ps_up_msgs, 1);
	ck_assert_int_eq(ustreams_ioctl(sd, I_FLUSH, FLUSHR), 0);
	/* The M_FLUSH went down through passthru and came back up. */
	ps = passthru_stats(sd);
	ck_assert_uint_eq(ps.ps_down_msgs, 2);
	ck_assert_uint_eq(ps.ps_up_msgs, 2);
	ck_assert_int_eq(nread(sd), 0);
	read_nothing(sd);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(echo_refuses_every_ioctl_with_einval)
{
	char arg[4] = "abc";
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	ck_assert_int_eq(strioc(sd, 0x1234, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(sd, 0x1235, arg, sizeof (arg)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(sd, LOOP_SET, arg, sizeof (arg)), -1);
	ck_assert_int_eq(errno, EINVAL);
	write_str(sd, "still works");
	read_str(sd, "still works");
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(echo_backs_up_to_the_writer_and_resumes_when_read)
{
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR | O_NONBLOCK);
	/* Nothing runs yet: echo's write queue takes 8 messages (8192). */
	for (uint32_t i = 0; i < 8; i++)
		ck_assert_int_eq(write_seq(sd, i), MSG);
	ck_assert_int_eq(write_seq(sd, 8), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(poll_one(sd, POLLOUT), 0);
	/* The head takes 5 (5120); echo keeps 3 and waits. */
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(sd), 5);
	for (uint32_t i = 0; i < 5; i++)
		read_seq(sd, i);
	read_nothing(sd);
	/* The drained head back-enabled echo: the other 3 come. */
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(sd), 3);
	for (uint32_t i = 5; i < 8; i++)
		read_seq(sd, i);
	read_nothing(sd);
	ck_assert_int_eq(poll_one(sd, POLLOUT), POLLOUT);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(echo_streams_are_independent_and_give_all_memory_back)
{
	size_t before;
	int sd[4];

	boot_sim();
	before = inuse();
	for (int i = 0; i < 4; i++)
		sd[i] = sopen("echo", O_RDWR);
	for (int i = 0; i < 4; i++) {
		char s[2] = { (char)('0' + i), '\0' };

		write_str(sd[i], s);
	}
	for (int i = 3; i >= 0; i--) {
		char s[2] = { (char)('0' + i), '\0' };

		read_str(sd[i], s);
		ck_assert_int_eq(ustreams_close(sd[i]), 0);
	}
	ck_assert_uint_eq(inuse(), before);
}
END_TEST

/* ---- null ---- */

START_TEST(null_swallows_and_counts_every_data_message)
{
	static char big[4096];
	struct strbuf ctl = { 10, 10, "0123456789" };
	struct strbuf data = { 20, 20, "abcdefghijklmnopqrst" };
	struct strbuf pc = { 5, 5, "hipri" };
	struct null_stats ns;
	int sd;

	boot_sim();
	sd = sopen("null", O_RDWR | O_NONBLOCK);
	ck_assert_int_eq(ustreams_write(sd, big, 100), 100);
	ck_assert_int_eq(ustreams_write(sd, big, 200), 200);
	ck_assert_int_eq(ustreams_write(sd, big, 300), 300);
	ck_assert_int_eq(ustreams_putmsg(sd, &ctl, &data, 0), 0);
	ck_assert_int_eq(ustreams_putmsg(sd, &pc, NULL, RS_HIPRI), 0);
	ustreams_sim_run_idle();
	read_nothing(sd);
	ck_assert_int_eq(poll_one(sd, POLLIN | POLLPRI), 0);
	memset(&ns, 0xff, sizeof (ns));
	ck_assert_int_eq(strioc(sd, NULL_GETSTATS, &ns, sizeof (ns)), 0);
	ck_assert_uint_eq(ns.ns_msgs, 5);
	ck_assert_uint_eq(ns.ns_bytes, 100 + 200 + 300 + 30 + 5);

	/* Never flow controlled: 100 writes of 4 KB, no event run. */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(ustreams_write(sd, big, sizeof (big)),
		    (ssize_t)sizeof (big));
	ck_assert_int_eq(poll_one(sd, POLLOUT), POLLOUT);
	ck_assert_int_eq(ustreams_sim_pending(), 0);
	ck_assert_int_eq(strioc(sd, NULL_GETSTATS, &ns, sizeof (ns)), 0);
	ck_assert_uint_eq(ns.ns_msgs, 105);
	ck_assert_uint_eq(ns.ns_bytes, 635 + 100 * 4096);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(null_counts_per_stream_and_refuses_other_ioctls)
{
	struct null_stats ns;
	int a, b;

	boot_sim();
	a = sopen("null", O_RDWR);
	b = sopen("null", O_RDWR);
	write_str(a, "12345");
	ck_assert_int_eq(strioc(b, NULL_GETSTATS, &ns, sizeof (ns)), 0);
	ck_assert_uint_eq(ns.ns_msgs, 0);
	ck_assert_uint_eq(ns.ns_bytes, 0);
	ck_assert_int_eq(strioc(a, NULL_GETSTATS, &ns, sizeof (ns)), 0);
	ck_assert_uint_eq(ns.ns_msgs, 1);
	ck_assert_uint_eq(ns.ns_bytes, 5);
	ck_assert_int_eq(strioc(a, NULL_GETSTATS, &ns, 8), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(a, 0x4242, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(a, I_FLUSH, FLUSHRW), 0);
	ck_assert_int_eq(ustreams_ioctl(a, I_FLUSH, FLUSHW), 0);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/* ---- loop ---- */

START_TEST(loop_joins_two_streams_both_ways)
{
	char cbuf[16], dbuf[16];
	struct strbuf ctl = { 3, 3, "CTL" }, data = { 4, 4, "data" };
	struct strbuf rc = { sizeof (cbuf), 0, cbuf };
	struct strbuf rd = { sizeof (dbuf), 0, dbuf };
	int a, b, flags = 0;

	boot_sim();
	a = sopen("loop", O_RDWR);
	b = sopen("loop", O_RDWR);
	ck_assert_int_ne(loop_minor(a), loop_minor(b));
	ck_assert_int_eq(loop_set(a, loop_minor(b)), 0);
	write_str(a, "hello");
	read_str(b, "hello");
	write_str(b, "world");
	read_str(a, "world");
	ck_assert_int_eq(ustreams_putmsg(b, &ctl, &data, 0), 0);
	ck_assert_int_eq(ustreams_getmsg(a, &rc, &rd, &flags), 0);
	ck_assert_int_eq(rc.len, 3);
	ck_assert_mem_eq(cbuf, "CTL", 3);
	ck_assert_int_eq(rd.len, 4);
	ck_assert_mem_eq(dbuf, "data", 4);
	ck_assert_int_eq(nread(a), 0);
	ck_assert_int_eq(nread(b), 0);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

START_TEST(loop_set_refuses_bad_minors_and_busy_streams)
{
	short two = 1;
	int a, b, c, free_minor;

	boot_sim();
	a = sopen("loop", O_RDWR);
	b = sopen("loop", O_RDWR);
	c = sopen("loop", O_RDWR);
	for (free_minor = 0; free_minor == loop_minor(a) ||
	    free_minor == loop_minor(b) || free_minor == loop_minor(c);
	    free_minor++)
		;
	ck_assert_int_eq(loop_set(a, free_minor), -1);
	ck_assert_int_eq(errno, ENXIO);
	ck_assert_int_eq(loop_set(a, -1), -1);
	ck_assert_int_eq(errno, ENXIO);
	ck_assert_int_eq(loop_set(a, LOOP_MAXMINOR), -1);
	ck_assert_int_eq(errno, ENXIO);
	ck_assert_int_eq(loop_set(a, loop_minor(a)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(a, LOOP_SET, &two, sizeof (two)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(a, LOOP_SET, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(a, 0x4243, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(loop_set(a, loop_minor(b)), 0);
	ck_assert_int_eq(loop_set(c, loop_minor(b)), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(loop_set(a, loop_minor(c)), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(loop_set(b, loop_minor(a)), -1);
	ck_assert_int_eq(errno, EBUSY);
	write_str(b, "joined");
	read_str(a, "joined");
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
	ck_assert_int_eq(ustreams_close(c), 0);
}
END_TEST

START_TEST(loop_write_on_an_unjoined_stream_raises_enxio)
{
	char buf[4];
	int a;

	boot_sim();
	a = sopen("loop", O_RDWR);
	/* The write gets down; loop answers with M_ERROR (ENXIO). */
	write_str(a, "x");
	ck_assert_int_eq(ustreams_write(a, "y", 1), -1);
	ck_assert_int_eq(errno, ENXIO);
	ck_assert_int_eq(ustreams_read(a, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, ENXIO);
	ck_assert_int_eq(poll_one(a, POLLIN), POLLERR);
	ck_assert_int_eq(ustreams_close(a), 0);
}
END_TEST

START_TEST(loop_flow_control_crosses_to_the_writer)
{
	int a, b;

	boot_sim();
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	/*
	 * The first 5 messages go straight across and fill b's stream head
	 * (5 * 1024 bytes reach its high-water mark of 5120); the next 8
	 * wait on a's loop write queue (8192); then a's writes are refused.
	 */
	for (uint32_t i = 0; i < 13; i++)
		ck_assert_int_eq(write_seq(a, i), MSG);
	ck_assert_int_eq(write_seq(a, 13), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 5);
	ck_assert_int_eq(nread(a), 0);
	for (uint32_t i = 0; i < 5; i++)
		read_seq(b, i);
	read_nothing(b);
	/* b drained: its loop read queue enables a's write queue. */
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 5);
	for (uint32_t i = 5; i < 10; i++)
		read_seq(b, i);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 3);
	for (uint32_t i = 10; i < 13; i++)
		read_seq(b, i);
	/* Nothing queued, room across: straight up, no service run needed. */
	ck_assert_int_eq(write_seq(a, 13), MSG);
	read_seq(b, 13);
	read_nothing(b);
	read_nothing(a);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

START_TEST(loop_flushw_flushes_the_other_read_side)
{
	int a, b;

	boot_sim();
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	/* Data already across, in b's stream head. */
	write_str(a, "one");
	write_str(a, "two");
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 2);
	ck_assert_int_eq(ustreams_ioctl(a, I_FLUSH, FLUSHW), 0);
	ck_assert_int_eq(nread(b), 0);
	/* Data still on a's write queue. */
	write_str(a, "three");
	ck_assert_int_eq(ustreams_ioctl(a, I_FLUSH, FLUSHW), 0);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 0);
	read_nothing(b);
	write_str(a, "four");
	ustreams_sim_run_idle();
	read_str(b, "four");
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * An M_FLUSH of one byte, as modules and the stream head send with
 * putnextctl1: here the one a's stream head sends down when errmod raises
 * an error on it.  loop flushes as for the two-byte one I_FLUSH sends.
 */
START_TEST(loop_one_byte_m_flush_flushes_the_other_read_side)
{
	static const unsigned char eio[1] = { EIO };
	int a, b;

	boot_sim();
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	push(a, "errmod");
	write_str(a, "one");
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 1);
	/* a's stream head: M_ERROR in, M_FLUSH(FLUSHRW), one byte, down. */
	ck_assert_int_eq(errmod_error(a, eio, 1), 0);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 0);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

START_TEST(loop_flushr_flushes_the_other_write_side_only)
{
	int a, b;

	boot_sim();
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	/* Written on a, not yet across: b's FLUSHR discards it. */
	write_str(a, "lost");
	ck_assert_int_eq(ustreams_ioctl(b, I_FLUSH, FLUSHR), 0);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 0);
	/* b's FLUSHR leaves a's read side alone... */
	write_str(b, "kept");
	ustreams_sim_run_idle();
	write_str(a, "also lost");
	ck_assert_int_eq(ustreams_ioctl(b, I_FLUSH, FLUSHR), 0);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 0);
	read_str(a, "kept");
	/* ...and the streams still work. */
	write_str(a, "after");
	ustreams_sim_run_idle();
	read_str(b, "after");
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

START_TEST(loop_close_hangs_up_the_other_stream)
{
	char buf[16];
	int a, b;

	boot_sim();
	loop_pair(O_RDWR, &a, &b);
	write_str(a, "last");
	ustreams_sim_run_idle();
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(poll_one(b, POLLIN | POLLOUT), POLLIN | POLLHUP);
	read_str(b, "last");
	ck_assert_int_eq(ustreams_read(b, buf, sizeof (buf)), 0);
	ck_assert_int_eq(ustreams_read(b, buf, sizeof (buf)), 0);
	ck_assert_int_eq(ustreams_write(b, "x", 1), -1);
	ck_assert_int_eq(errno, ENXIO);
	ck_assert_int_eq(poll_one(b, POLLIN | POLLOUT), POLLHUP);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

START_TEST(loop_hung_up_stream_cannot_be_joined_again)
{
	int a, b, c;

	boot_sim();
	loop_pair(O_RDWR, &a, &b);
	c = sopen("loop", O_RDWR);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(loop_set(c, loop_minor(b)), -1);
	ck_assert_int_eq(errno, ENXIO);
	ck_assert_int_eq(ustreams_close(b), 0);
	ck_assert_int_eq(ustreams_close(c), 0);
}
END_TEST

/*
 * What crossed is read; what was still queued on the closing side --
 * held back by flow control because the other side was full -- is gone.
 */
START_TEST(loop_close_discards_what_was_not_across)
{
	char msg[64] = "x", buf[64];
	long written = 0, read_bytes = 0;
	ssize_t n;
	int a, b;

	boot_sim();
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	while (ustreams_write(a, msg, sizeof (msg)) == (ssize_t)sizeof (msg))
		written += (long)sizeof (msg);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(ustreams_close(a), 0);
	while ((n = ustreams_read(b, buf, sizeof (buf))) > 0)
		read_bytes += n;
	ck_assert_int_eq(n, 0);			/* hung up, drained */
	ck_assert_int_gt(read_bytes, 0);
	ck_assert_int_lt(read_bytes, written);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

START_TEST(loop_has_64_minors_reused_lowest_first)
{
	int sd[LOOP_MAXMINOR];
	bool seen[LOOP_MAXMINOR] = { false };
	size_t before;
	int victim;

	boot_sim();
	before = inuse();
	for (int i = 0; i < LOOP_MAXMINOR; i++) {
		int m;

		sd[i] = sopen("loop", O_RDWR);
		m = loop_minor(sd[i]);
		ck_assert(!seen[m]);
		seen[m] = true;
	}
	ck_assert_int_eq(ustreams_open("loop", O_RDWR), -1);
	ck_assert_int_eq(errno, ENXIO);
	victim = loop_minor(sd[17]);
	ck_assert_int_eq(ustreams_close(sd[17]), 0);
	sd[17] = sopen("loop", O_RDWR);
	ck_assert_int_eq(loop_minor(sd[17]), victim);
	for (int i = 0; i < LOOP_MAXMINOR; i++)
		ck_assert_int_eq(ustreams_close(sd[i]), 0);
	/* The table's lock went with the last stream. */
	ck_assert_uint_eq(inuse(), before);
}
END_TEST

/*
 * FLUSHBAND crosses with its band: a flush of band 1 of a's write side
 * takes band 1, and only band 1, from what had reached b.
 */
START_TEST(loop_flushband_flushes_only_that_band_across)
{
	struct strbuf b1 = { 2, 2, "b1" };
	struct bandinfo bi = { 1, FLUSHW };
	int a, b;

	boot_sim();
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	ck_assert_int_eq(ustreams_putpmsg(a, NULL, &b1, 1, MSG_BAND), 0);
	write_str(a, "n0");
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 2);
	ck_assert_int_eq(ustreams_ioctl(a, I_FLUSHBAND, &bi), 0);
	ustreams_sim_run_idle();
	read_str(b, "n0");
	read_nothing(b);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * b's FLUSHR crosses as a FLUSHW down a: what a had written that still
 * waited in loop for room on b is discarded, and does not follow when b
 * has room again.
 */
START_TEST(loop_flushr_discards_what_the_other_stream_had_yet_to_send)
{
	int a, b;

	boot_sim();
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	/* 5 fill b's stream head, 2 wait on a's loop write queue. */
	for (uint32_t i = 0; i < 7; i++)
		ck_assert_int_eq(write_seq(a, i), MSG);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 5);
	ck_assert_int_eq(ustreams_ioctl(b, I_FLUSH, FLUSHR), 0);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 0);
	read_nothing(b);
	ck_assert_int_eq(write_seq(a, 7), MSG);
	read_seq(b, 7);
	read_nothing(b);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * fprobe, a module for the tests below: it passes everything on both
 * ways and counts the M_FLUSH messages coming up its read side, by the
 * flags they carry.  Its one ioctl, FPROBE_SEND_CTL, sends an M_CTL
 * down -- a message the drivers here do not know -- and is acknowledged.
 */
#define	FPROBE_SEND_CTL	(('f' << 8) | 1)

static int fprobe_up_flushes, fprobe_up_flushr, fprobe_up_flushw;

static int
fprobe_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	if (sflag != MODOPEN)
		return (EINVAL);
	qprocson(q);
	return (0);
}

static int
fprobe_close(queue_t *q, int oflag, cred_t *crp)
{
	qprocsoff(q);
	return (0);
}

static int
fprobe_wput(queue_t *q, mblk_t *mp)
{
	mblk_t *bp;

	if (DB_TYPE(mp) == M_IOCTL &&
	    MBLKL(mp) >= (ssize_t)sizeof (struct iocblk) &&
	    ((struct iocblk *)(void *)mp->b_rptr)->ioc_cmd ==
	    FPROBE_SEND_CTL) {
		if ((bp = allocb(4, BPRI_HI)) == NULL) {
			miocnak(q, mp, 0, ENOSR);
			return (0);
		}
		DB_TYPE(bp) = M_CTL;
		*bp->b_wptr++ = 'c';
		miocack(q, mp, 0, 0);
		putnext(q, bp);
		return (0);
	}
	putnext(q, mp);
	return (0);
}

static int
fprobe_rput(queue_t *q, mblk_t *mp)
{
	if (DB_TYPE(mp) == M_FLUSH && MBLKL(mp) >= 1) {
		fprobe_up_flushes++;
		if (*mp->b_rptr & FLUSHR)
			fprobe_up_flushr++;
		if (*mp->b_rptr & FLUSHW)
			fprobe_up_flushw++;
	}
	putnext(q, mp);
	return (0);
}

static struct module_info fprobe_minfo = { 0x7002, "fprobe", 0, INFPSZ,
    8192, 2048 };
static struct qinit fprobe_rinit = { fprobe_rput, NULL, fprobe_open,
    fprobe_close, NULL, &fprobe_minfo, NULL };
static struct qinit fprobe_winit = { fprobe_wput, NULL, NULL, NULL, NULL,
    &fprobe_minfo, NULL };
static struct streamtab fprobe_info = { &fprobe_rinit, &fprobe_winit,
    NULL, NULL };

/* Boot the sim executive with fprobe registered; counts cleared. */
static void
boot_sim_fprobe(void)
{
	int r = ustreams_register_module("fprobe", &fprobe_info, 0);

	ck_assert(r == 0 || r == EEXIST);
	boot_sim();
	fprobe_up_flushes = fprobe_up_flushr = fprobe_up_flushw = 0;
}

/* The M_FLUSH messages fprobe saw come up: how many, with each flag. */
static void
fprobe_saw(int flushes, int flushr, int flushw)
{
	ck_assert_int_eq(fprobe_up_flushes, flushes);
	ck_assert_int_eq(fprobe_up_flushr, flushr);
	ck_assert_int_eq(fprobe_up_flushw, flushw);
	fprobe_up_flushes = fprobe_up_flushr = fprobe_up_flushw = 0;
}

/*
 * As a driver does, loop sends a FLUSHR back up the stream it came down,
 * FLUSHW cleared, so that the modules above flush their read sides; a
 * FLUSHW alone goes no further than loop.  What crosses is seen too: a's
 * FLUSHR crosses as a FLUSHW that b's stream head turns down b, and it
 * comes back across as a FLUSHR up a.
 */
START_TEST(loop_turns_flushr_back_up_to_the_modules_above)
{
	int a, b;

	boot_sim_fprobe();
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	push(a, "fprobe");
	ck_assert_int_eq(ustreams_ioctl(a, I_FLUSH, FLUSHW), 0);
	ustreams_sim_run_idle();
	fprobe_saw(0, 0, 0);
	ck_assert_int_eq(ustreams_ioctl(a, I_FLUSH, FLUSHR), 0);
	ustreams_sim_run_idle();
	fprobe_saw(2, 2, 0);
	ck_assert_int_eq(ustreams_ioctl(a, I_FLUSH, FLUSHRW), 0);
	ustreams_sim_run_idle();
	fprobe_saw(2, 2, 0);
	/* b's FLUSHR crosses as a FLUSHW up a (and a's head turns it). */
	ck_assert_int_eq(ustreams_ioctl(b, I_FLUSH, FLUSHR), 0);
	ustreams_sim_run_idle();
	fprobe_saw(1, 0, 1);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * A message a driver does not know -- here an M_CTL that fprobe sends
 * down -- is freed: on echo, null, and loop joined or not, the stream
 * holds no more memory afterwards than before.
 */
START_TEST(drivers_free_the_messages_they_do_not_know)
{
	static const char *const drivers[] = { "echo", "null", "loop" };
	size_t before;
	int sd, a, b;

	boot_sim_fprobe();
	for (int i = 0; i < 3; i++) {
		sd = sopen(drivers[i], O_RDWR | O_NONBLOCK);
		push(sd, "fprobe");
		before = inuse();
		ck_assert_int_eq(strioc(sd, FPROBE_SEND_CTL, NULL, 0), 0);
		ustreams_sim_run_idle();
		ck_assert_uint_eq(inuse(), before);
		read_nothing(sd);
		ck_assert_int_eq(ustreams_close(sd), 0);
	}
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	push(a, "fprobe");
	before = inuse();
	ck_assert_int_eq(strioc(a, FPROBE_SEND_CTL, NULL, 0), 0);
	ustreams_sim_run_idle();
	ck_assert_uint_eq(inuse(), before);
	read_nothing(b);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * Memory the test holds, in 8-byte blocks chained through themselves:
 * mem_fill takes the whole budget, mem_give returns n bytes of it.
 */
struct blk {
	struct blk	*b_next;
};

static struct blk *held_blks;

static void
mem_fill(void)
{
	struct blk *b;

	while ((b = kmem_alloc(sizeof (*b), KM_NOSLEEP)) != NULL) {
		b->b_next = held_blks;
		held_blks = b;
	}
}

static void
mem_give(size_t n)
{
	for (; n >= sizeof (struct blk) && held_blks != NULL;
	    n -= sizeof (struct blk)) {
		struct blk *b = held_blks;

		held_blks = b->b_next;
		kmem_free(b, sizeof (*b));
	}
}

/*
 * The first loop stream to open allocates the driver's lock and
 * synchronisation variable.  Short of the memory for them, by any amount,
 * the open fails with ENOMEM (or ENOSR) and gives back all it took; with
 * enough, it succeeds.  need is what the first open takes in all, stream
 * head included.
 */
START_TEST(loop_first_open_short_of_memory_fails_and_takes_nothing)
{
	lkinfo_t lki = { "probe", 0, { 0, 0 } };
	size_t before, need, lock_sv;
	lock_t *lk;
	sv_t *sv;
	int a;

	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(256 * 1024, USTREAMS_EXEC_SIM);
	before = inuse();
	lk = LOCK_ALLOC(1, plstr, &lki, KM_NOSLEEP);
	sv = SV_ALLOC(KM_NOSLEEP);
	ck_assert_ptr_nonnull(lk);
	ck_assert_ptr_nonnull(sv);
	lock_sv = inuse() - before;
	LOCK_DEALLOC(lk);
	SV_DEALLOC(sv);
	a = sopen("loop", O_RDWR);
	need = inuse() - before;
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_uint_eq(inuse(), before);

	for (size_t short_by = sizeof (struct blk); short_by <= lock_sv;
	    short_by += sizeof (struct blk)) {
		mem_fill();
		mem_give(need - short_by);
		before = inuse();
		ck_assert_msg(ustreams_open("loop", O_RDWR) == -1,
		    "open short by %zu bytes succeeded", short_by);
		ck_assert_msg(errno == ENOMEM || errno == ENOSR,
		    "open short by %zu bytes: errno %d", short_by, errno);
		ck_assert_uint_eq(inuse(), before);
	}
	mem_fill();
	mem_give(need);
	a = sopen("loop", O_RDWR);
	ck_assert_int_eq(ustreams_close(a), 0);
	mem_give(SIZE_MAX);
}
END_TEST

/* ---- passthru ---- */

START_TEST(passthru_counts_messages_each_way)
{
	struct passthru_stats ps;
	char buf[64];
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	push(sd, "passthru");
	ps = passthru_stats(sd);
	ck_assert_uint_eq(ps.ps_down_msgs, 0);
	ck_assert_uint_eq(ps.ps_down_bytes, 0);
	ck_assert_uint_eq(ps.ps_up_msgs, 0);
	ck_assert_uint_eq(ps.ps_up_bytes, 0);
	ck_assert_int_eq(ustreams_write(sd, buf, 10), 10);
	ck_assert_int_eq(ustreams_write(sd, buf, 20), 20);
	ck_assert_int_eq(ustreams_write(sd, buf, 30), 30);
	for (int n = 10; n <= 30; n += 10)
		ck_assert_int_eq(ustreams_read(sd, buf, (size_t)n), n);
	ps = passthru_stats(sd);
	ck_assert_uint_eq(ps.ps_down_msgs, 3);
	ck_assert_uint_eq(ps.ps_down_bytes, 60);
	ck_assert_uint_eq(ps.ps_up_msgs, 3);
	ck_assert_uint_eq(ps.ps_up_bytes, 60);

	/* An ioctl it does not know goes down, and its M_IOCNAK comes up. */
	ck_assert_int_eq(strioc(sd, 0x5151, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ps = passthru_stats(sd);
	ck_assert_uint_eq(ps.ps_down_msgs, 4);
	ck_assert_uint_eq(ps.ps_down_bytes, 60 + sizeof (struct iocblk));
	ck_assert_uint_eq(ps.ps_up_msgs, 4);
	ck_assert_uint_eq(ps.ps_up_bytes, 60 + sizeof (struct iocblk));

	ck_assert_int_eq(strioc(sd, PASSTHRU_GETSTATS, &ps, 8), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(passthru_instances_count_separately)
{
	struct passthru_stats ps;
	int sd;

	boot_sim();
	sd = sopen("null", O_RDWR);
	push(sd, "passthru");
	write_str(sd, "abcd");
	push(sd, "passthru");
	write_str(sd, "ef");
	ps = passthru_stats(sd);		/* the upper one */
	ck_assert_uint_eq(ps.ps_down_msgs, 1);
	ck_assert_uint_eq(ps.ps_down_bytes, 2);
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP, 0), 0);
	ps = passthru_stats(sd);		/* the lower one */
	ck_assert_uint_eq(ps.ps_down_msgs, 2);
	ck_assert_uint_eq(ps.ps_down_bytes, 6);
	ck_assert_uint_eq(ps.ps_up_msgs, 0);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

/* ---- close: waiting for the write side to drain ---- */

/*
 * 13 messages written on loop stream a: 5 cross to b and fill its stream
 * head, 8 wait on a's loop write queue.
 */
static void
fill_loop(int a, int b)
{
	for (uint32_t i = 0; i < 13; i++)
		ck_assert_int_eq(write_seq(a, i), MSG);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 5);
}

START_TEST(close_time_is_15_seconds_and_checked)
{
	int sd, ms;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GETCLTIME, &ms), 0);
	ck_assert_int_eq(ms, 15000);
	ms = 250;
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETCLTIME, &ms), 0);
	ms = -1;
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETCLTIME, &ms), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SETCLTIME, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GETCLTIME, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ustreams_ioctl(sd, I_GETCLTIME, &ms), 0);
	ck_assert_int_eq(ms, 250);		/* the refused ones changed nothing */
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

/*
 * Three messages wait on slow's write queue (nothing runs under the sim
 * executive until something sleeps).  Close waits for slow's service
 * procedure to pass them on, spending its cost on each, before it pops
 * slow: the clock moves by exactly three costs, and all three are read
 * on the other stream.
 */
START_TEST(close_waits_for_a_module_to_drain)
{
	const int cost = 1000;		/* microseconds per message */
	uint64_t t0;
	int a, b, c = cost;

	boot_sim();
	loop_pair(O_RDWR, &a, &b);
	push(a, "slow");
	ck_assert_int_eq(strioc(a, SLOW_SETCOST, &c, sizeof (c)), 0);
	ustreams_sim_run_idle();
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_int_eq(write_seq(a, i), MSG);
	ck_assert_int_eq(nread(b), 0);
	t0 = ustreams_now_ns();
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_uint_eq(ustreams_now_ns() - t0, 3ull * cost * 1000);
	read_seqs_then_eof(b, 3);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * The close time is how long close waits with no message leaving, not
 * how long since the stream opened: a stream closed 20 seconds (of
 * virtual time) after its open, with a close time of 2 seconds, still
 * waits for slow to pass its three messages on before it pops slow.
 */
START_TEST(close_waits_for_a_module_to_drain_however_late_it_closes)
{
	const int cost = 1000;		/* microseconds per message */
	uint64_t t0;
	int a, b, c = cost, ms = 2000;

	boot_sim();
	loop_pair(O_RDWR, &a, &b);
	push(a, "slow");
	ck_assert_int_eq(strioc(a, SLOW_SETCOST, &c, sizeof (c)), 0);
	ck_assert_int_eq(ustreams_ioctl(a, I_SETCLTIME, &ms), 0);
	ustreams_sim_run_idle();
	ck_assert_int_ge(ustreams_sim_run_until(20ull * 1000 * 1000 * 1000),
	    0);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_int_eq(write_seq(a, i), MSG);
	ck_assert_int_eq(nread(b), 0);
	t0 = ustreams_now_ns();
	ck_assert_uint_eq(t0, 20ull * 1000 * 1000 * 1000);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_uint_eq(ustreams_now_ns() - t0, 3ull * cost * 1000);
	read_seqs_then_eof(b, 3);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * 5 messages cross to b and fill its stream head; 8 wait on a's loop
 * write queue.  Nobody reads b, so close waits the close time -- 2
 * seconds of virtual time, set by I_SETCLTIME -- then frees the 8.
 */
START_TEST(close_gives_up_after_the_close_time)
{
	const uint64_t cltime_ns = 2000ull * 1000 * 1000;
	const uint64_t tick_ns = (uint64_t)drv_hztousec(1) * 1000;
	uint64_t t0, waited;
	int a, b, ms = 2000;

	boot_sim();
	loop_pair(O_RDWR, &a, &b);
	ck_assert_int_eq(ustreams_ioctl(a, I_SETCLTIME, &ms), 0);
	fill_loop(a, b);
	t0 = ustreams_now_ns();
	ck_assert_int_eq(ustreams_close(a), 0);
	waited = ustreams_now_ns() - t0;
	ck_assert_uint_ge(waited, cltime_ns);
	ck_assert_uint_le(waited, cltime_ns + 2 * tick_ns);
	read_seqs_then_eof(b, 5);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/* O_NONBLOCK, or a close time of 0: close frees at once. */
START_TEST(close_does_not_wait_when_nonblocking_or_told_not_to)
{
	uint64_t t0;
	int a, b, zero = 0;

	boot_sim();
	for (int round = 0; round < 2; round++) {
		loop_pair(round == 0 ? O_RDWR | O_NONBLOCK : O_RDWR, &a, &b);
		if (round == 1)
			ck_assert_int_eq(ustreams_ioctl(a, I_SETCLTIME, &zero),
			    0);
		fill_loop(a, b);
		t0 = ustreams_now_ns();
		ck_assert_int_eq(ustreams_close(a), 0);
		ck_assert_uint_eq(ustreams_now_ns(), t0);
		read_seqs_then_eof(b, 5);
		ck_assert_int_eq(ustreams_close(b), 0);
	}
}
END_TEST

/*
 * The same 13 messages, 8 of them on a's loop write queue, and a reader
 * of b that starts once a's close is under way: close waits while the
 * reader empties b and loop passes the 8 across, and the reader gets all
 * 13, in order, then the hang-up.  (Without the wait the 8 would be
 * freed, and the reader would get 5.)
 */
struct drain_arg {
	int		da_sd;
	_Atomic int	da_closing;
	uint32_t	da_count;
	int		da_error;
};

static void *
drain_reader(void *arg)
{
	struct drain_arg *da = arg;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char buf[2 * MSG];
	uint32_t seq;
	ssize_t n;

	while (!da->da_closing)
		sched_yield();
	(void) nanosleep(&ts, NULL);	/* let close start waiting */
	while ((n = ustreams_read(da->da_sd, buf, MSG)) > 0) {
		memcpy(&seq, buf, sizeof (seq));
		if (n != MSG || seq != da->da_count) {
			da->da_error = -1;
			break;
		}
		da->da_count++;
	}
	if (n < 0)
		da->da_error = errno;
	return (NULL);
}

/*
 * Write n numbered messages on a, start a reader of b, and close a: the
 * close must wait while the reader takes all n, in order, then the
 * hang-up.
 */
static void
write_then_close_while_b_reads(int a, int b, uint32_t n)
{
	struct drain_arg da = { 0 };
	pthread_t rt;

	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(write_seq(a, i), MSG);
	da.da_sd = b;
	ck_assert_int_eq(pthread_create(&rt, NULL, drain_reader, &da), 0);
	da.da_closing = 1;
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(pthread_join(rt, NULL), 0);
	ck_assert_int_eq(da.da_error, 0);
	ck_assert_uint_eq(da.da_count, n);
	ck_assert_int_eq(ustreams_close(b), 0);
}

START_TEST(close_waits_while_the_other_side_reads_threads)
{
	int a, b;

	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_THREADS);
	loop_pair(O_RDWR, &a, &b);
	write_then_close_while_b_reads(a, b, 13);
}
END_TEST

/*
 * Close waits for the messages still in slow's write queue, which slow's
 * service procedure takes one at a time at its cost, before it pops slow:
 * every message reaches the reader of the other loop stream, in order,
 * then the hang-up.  (Without the wait, those still in slow would be
 * freed with it.)
 */
START_TEST(close_waits_for_slow_to_drain_threads)
{
	int a, b, cost = 500;		/* microseconds per message */

	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_THREADS);
	loop_pair(O_RDWR, &a, &b);
	push(a, "slow");
	ck_assert_int_eq(strioc(a, SLOW_SETCOST, &cost, sizeof (cost)), 0);
	write_then_close_while_b_reads(a, b, 8);
}
END_TEST

/* ---- slow ---- */

START_TEST(slow_backs_up_writers_and_spends_its_cost_in_virtual_time)
{
	const int cost = 1000;		/* microseconds per message */
	int rounds[4] = { 0 }, nrounds = 0, eagain = 0;
	uint32_t written = 0, received = 0;
	uint64_t t0;
	int sd, c;

	boot_sim();
	sd = sopen("echo", O_RDWR | O_NONBLOCK);
	push(sd, "slow");
	c = cost;
	ck_assert_int_eq(strioc(sd, SLOW_SETCOST, &c, sizeof (c)), 0);
	ck_assert_int_eq(strioc(sd, SLOW_SETCOST, &c, sizeof (c)), cost);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SRDOPT, RMSGN), 0);
	ustreams_sim_run_idle();
	t0 = ustreams_now_ns();

	while (received < 10) {
		ck_assert_int_lt(nrounds, 4);
		/* Write until slow's queue is over its high-water mark. */
		while (written < 10) {
			if (write_seq(sd, written) < 0) {
				ck_assert_int_eq(errno, EAGAIN);
				eagain++;
				break;
			}
			written++;
		}
		ck_assert_uint_eq(ustreams_now_ns(), t0 +
		    (uint64_t)received * cost * 1000);
		ustreams_sim_run_idle();
		rounds[nrounds] = 0;
		while (nread(sd) > 0) {
			read_seq(sd, received++);
			rounds[nrounds]++;
		}
		read_nothing(sd);
		nrounds++;
	}
	/* 4 messages fill 4096 bytes; the fifth write found it full. */
	ck_assert_int_eq(nrounds, 3);
	ck_assert_int_eq(rounds[0], 4);
	ck_assert_int_eq(rounds[1], 4);
	ck_assert_int_eq(rounds[2], 2);
	ck_assert_int_eq(eagain, 2);
	ck_assert_uint_eq(ustreams_now_ns() - t0, 10ull * cost * 1000);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

/*
 * FLUSHW discards what waits in slow, in every band, and the M_FLUSH
 * passes on: here down to loop, which flushes b's stream head too.
 */
START_TEST(slow_flushw_discards_every_band_queued_and_passes_on)
{
	struct strbuf b1 = { 2, 2, "b1" };
	int a, b;

	boot_sim();
	loop_pair(O_RDWR | O_NONBLOCK, &a, &b);
	push(a, "slow");
	write_str(a, "across");
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 1);
	/* Queued in slow until its service procedure runs. */
	ck_assert_int_eq(ustreams_putpmsg(a, NULL, &b1, 1, MSG_BAND), 0);
	write_str(a, "n0");
	ck_assert_int_eq(ustreams_ioctl(a, I_FLUSH, FLUSHW), 0);
	ustreams_sim_run_idle();
	ck_assert_int_eq(nread(b), 0);
	read_nothing(b);
	write_str(a, "after");
	ustreams_sim_run_idle();
	read_str(b, "after");
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

START_TEST(slow_setcost_checks_its_argument_and_passes_other_ioctls)
{
	int sd, c;
	uint64_t t0;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	push(sd, "slow");
	c = -1;
	ck_assert_int_eq(strioc(sd, SLOW_SETCOST, &c, sizeof (c)), -1);
	ck_assert_int_eq(errno, EINVAL);
	c = SLOW_MAXCOST + 1;
	ck_assert_int_eq(strioc(sd, SLOW_SETCOST, &c, sizeof (c)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(sd, SLOW_SETCOST, &c, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	c = SLOW_MAXCOST;
	ck_assert_int_eq(strioc(sd, SLOW_SETCOST, &c, sizeof (c)), 0);
	ck_assert_int_eq(strioc(sd, 0x6161, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* One message costs one second; ioctls cost nothing. */
	t0 = ustreams_now_ns();
	write_str(sd, "slowly");
	read_str(sd, "slowly");
	ck_assert_uint_eq(ustreams_now_ns() - t0, 1000000000ull);
	/* 0 turns the cost off; the old cost is the ioctl's value. */
	c = 0;
	ck_assert_int_eq(strioc(sd, SLOW_SETCOST, &c, sizeof (c)),
	    SLOW_MAXCOST);
	t0 = ustreams_now_ns();
	write_str(sd, "at once");
	read_str(sd, "at once");
	ck_assert_uint_eq(ustreams_now_ns() - t0, 0);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

/* ---- errmod ---- */

START_TEST(errmod_one_byte_error_fails_reads_and_writes)
{
	static const unsigned char eio[1] = { EIO };
	char buf[8];
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	push(sd, "errmod");
	ck_assert_int_eq(poll_one(sd, POLLIN | POLLOUT), POLLOUT);
	ck_assert_int_eq(errmod_error(sd, eio, 1), 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert_int_eq(ustreams_write(sd, "x", 1), -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert_int_eq(poll_one(sd, POLLIN) & POLLERR, POLLERR);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(errmod_two_byte_errors_set_each_side_alone)
{
	static const unsigned char rd_only[2] = { EPROTO, NOERROR };
	static const unsigned char wr_only[2] = { 0, EPIPE };
	static const unsigned char clear[2] = { 0, 0 };
	char buf[8];
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	push(sd, "errmod");
	ck_assert_int_eq(errmod_error(sd, rd_only, 2), 0);
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), -1);
	ck_assert_int_eq(errno, EPROTO);
	write_str(sd, "abc");		/* the write side still works */
	ustreams_sim_run_idle();	/* "abc" is back at the head */
	ck_assert_int_eq(poll_one(sd, POLLOUT), POLLOUT | POLLERR);

	ck_assert_int_eq(errmod_error(sd, wr_only, 2), 0);
	read_str(sd, "abc");		/* read error cleared, data kept */
	ck_assert_int_eq(ustreams_write(sd, "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);

	ck_assert_int_eq(errmod_error(sd, clear, 2), 0);
	ck_assert_int_eq(poll_one(sd, POLLIN | POLLOUT), POLLOUT);
	write_str(sd, "ok");
	read_str(sd, "ok");
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(errmod_hangup_ends_reads_and_writes_until_unhangup)
{
	char buf[8];
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	push(sd, "errmod");
	write_str(sd, "before");
	ustreams_sim_run_idle();
	ck_assert_int_eq(strioc(sd, ERRMOD_HANGUP, NULL, 0), 0);
	ck_assert_int_eq(poll_one(sd, POLLIN | POLLOUT), POLLIN | POLLHUP);
	read_str(sd, "before");
	ck_assert_int_eq(ustreams_read(sd, buf, sizeof (buf)), 0);
	ck_assert_int_eq(ustreams_write(sd, "x", 1), -1);
	ck_assert_int_eq(errno, ENXIO);
	ck_assert_int_eq(poll_one(sd, POLLIN | POLLOUT), POLLHUP);

	ck_assert_int_eq(strioc(sd, ERRMOD_UNHANGUP, NULL, 0), 0);
	ck_assert_int_eq(poll_one(sd, POLLIN | POLLOUT), POLLOUT);
	write_str(sd, "again");
	read_str(sd, "again");
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

START_TEST(errmod_refuses_bad_payloads_and_passes_other_ioctls)
{
	static const unsigned char three[3] = { EIO, EIO, EIO };
	int sd;

	boot_sim();
	sd = sopen("echo", O_RDWR);
	push(sd, "errmod");
	ck_assert_int_eq(errmod_error(sd, three, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(errmod_error(sd, three, 3), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(strioc(sd, 0x7171, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(poll_one(sd, POLLIN | POLLOUT), POLLOUT);
	write_str(sd, "fine");
	read_str(sd, "fine");
	/* Without errmod, echo refuses its ioctls. */
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP, 0), 0);
	ck_assert_int_eq(errmod_error(sd, three, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	write_str(sd, "still");
	read_str(sd, "still");
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

/* ---- threads ---- */

#define	NSEQ	10000

struct seq_arg {
	int		sa_sd;
	int		sa_error;	/* 0, or the errno of the failure */
	uint32_t	sa_bad;		/* first wrong sequence number */
	uint32_t	sa_count;
};

static void *
seq_writer(void *arg)
{
	struct seq_arg *sa = arg;

	for (uint32_t i = 0; i < NSEQ; i++) {
		uint32_t w[2] = { i, ~i };

		if (ustreams_write(sa->sa_sd, w, sizeof (w)) !=
		    (ssize_t)sizeof (w)) {
			sa->sa_error = errno != 0 ? errno : -1;
			break;
		}
		sa->sa_count++;
	}
	return (NULL);
}

/*
 * The reader pauses at the start and half-way, so that the writer fills
 * b's stream head and a's write queue and blocks: flow control crosses
 * the loop, and the back-enable has to bring the writer back.
 */
static void *
seq_reader(void *arg)
{
	const struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct seq_arg *sa = arg;

	for (uint32_t i = 0; i < NSEQ; i++) {
		uint32_t w[4];
		struct strbuf data = { sizeof (w), 0, (char *)w };
		int flags = 0, r;

		if (i == 0 || i == NSEQ / 2)
			(void) nanosleep(&pause, NULL);
		r = ustreams_getmsg(sa->sa_sd, NULL, &data, &flags);
		if (r != 0) {
			sa->sa_error = r < 0 ? errno : -1;
			break;
		}
		if (data.len != 8 || w[0] != i || w[1] != ~i) {
			sa->sa_bad = i;
			sa->sa_error = -2;
			break;
		}
		sa->sa_count++;
	}
	return (NULL);
}

START_TEST(loop_through_passthru_keeps_10000_messages_in_order_threads)
{
	struct seq_arg wa = { 0 }, ra = { 0 };
	struct passthru_stats ps;
	pthread_t wt, rt;
	int a, b;

	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_THREADS);
	loop_pair(O_RDWR, &a, &b);
	push(a, "passthru");
	push(b, "passthru");
	wa.sa_sd = a;
	ra.sa_sd = b;
	ck_assert_int_eq(pthread_create(&rt, NULL, seq_reader, &ra), 0);
	ck_assert_int_eq(pthread_create(&wt, NULL, seq_writer, &wa), 0);
	ck_assert_int_eq(pthread_join(wt, NULL), 0);
	ck_assert_int_eq(pthread_join(rt, NULL), 0);
	ck_assert_msg(wa.sa_error == 0, "writer: error %d after %u",
	    wa.sa_error, wa.sa_count);
	ck_assert_msg(ra.sa_error == 0, "reader: error %d at %u after %u",
	    ra.sa_error, ra.sa_bad, ra.sa_count);
	ck_assert_uint_eq(wa.sa_count, NSEQ);
	ck_assert_uint_eq(ra.sa_count, NSEQ);
	ck_assert_int_eq(nread(b), 0);

	ps = passthru_stats(a);
	ck_assert_uint_eq(ps.ps_down_msgs, NSEQ);
	ck_assert_uint_eq(ps.ps_down_bytes, NSEQ * 8);
	ck_assert_uint_eq(ps.ps_up_msgs, 0);
	ps = passthru_stats(b);
	ck_assert_uint_eq(ps.ps_down_msgs, 0);
	ck_assert_uint_eq(ps.ps_up_msgs, NSEQ);
	ck_assert_uint_eq(ps.ps_up_bytes, NSEQ * 8);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * A writer held back by memory as well as flow control: the test keeps
 * all but four 1500-byte messages' worth of the BPRI_LO budget, so the
 * stream head's writes wait in bufcall while the reader, on another
 * thread, frees what they need.  Wake-ups for memory and for flow control
 * cross (the writer is woken by one while its bufcall callback starts),
 * and the writer's admission must count the reader's frees before the
 * reader's CPU folds them.  A stress, ten rounds of NSEQ messages, each
 * carrying its number at both ends: a lost wake-up, a deadlock or a
 * writer going round refused shows as the test's timeout.  (Seen: with
 * unbufcall under sd_lock, 3 runs in 10 hung; with admission refusing by
 * the writer's own view, every run.)
 */
#define	BIGMSG	1500

static void *
big_writer(void *arg)
{
	static __thread uint32_t w[BIGMSG / 4];
	struct seq_arg *sa = arg;

	for (uint32_t i = 0; i < NSEQ; i++) {
		w[0] = i;
		w[BIGMSG / 4 - 1] = ~i;
		if (ustreams_write(sa->sa_sd, w, BIGMSG) != BIGMSG) {
			sa->sa_error = errno != 0 ? errno : -1;
			break;
		}
		sa->sa_count++;
	}
	return (NULL);
}

static void *
big_reader(void *arg)
{
	static __thread uint32_t w[BIGMSG / 4 + 1];
	struct seq_arg *sa = arg;

	for (uint32_t i = 0; i < NSEQ; i++) {
		ssize_t r = ustreams_read(sa->sa_sd, w, sizeof (w));

		if (r != BIGMSG || w[0] != i || w[BIGMSG / 4 - 1] != ~i) {
			sa->sa_error = r < 0 ? errno : -2;
			sa->sa_bad = i;
			break;
		}
		sa->sa_count++;
	}
	return (NULL);
}

START_TEST(loop_writer_short_of_memory_keeps_every_message_threads)
{
	static mblk_t *held[8192];
	int a, b, n = 0;

	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(1024 * 1024, USTREAMS_EXEC_THREADS);
	loop_pair(O_RDWR, &a, &b);
	ck_assert_int_eq(ustreams_ioctl(b, I_SRDOPT, RMSGN), 0);
	while (n < 8192 && (held[n] = allocb(64, BPRI_LO)) != NULL)
		n++;
	ck_assert_int_lt(n, 8192);
	for (int i = 0; i < 4 * 2560 / 192; i++)
		freeb(held[--n]);
	for (int round = 0; round < 10; round++) {
		struct seq_arg wa = { .sa_sd = a }, ra = { .sa_sd = b };
		pthread_t wt, rt;

		ck_assert_int_eq(pthread_create(&rt, NULL, big_reader, &ra),
		    0);
		ck_assert_int_eq(pthread_create(&wt, NULL, big_writer, &wa),
		    0);
		ck_assert_int_eq(pthread_join(wt, NULL), 0);
		ck_assert_int_eq(pthread_join(rt, NULL), 0);
		ck_assert_msg(wa.sa_error == 0, "writer: error %d after %u",
		    wa.sa_error, wa.sa_count);
		ck_assert_msg(ra.sa_error == 0,
		    "reader: error %d at %u after %u", ra.sa_error, ra.sa_bad,
		    ra.sa_count);
		ck_assert_uint_eq(ra.sa_count, NSEQ);
	}
	while (n > 0)
		freeb(held[--n]);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * A stream closes while the other one's writer keeps writing into loop,
 * which takes and releases a hold on the closing stream for every
 * message: the close must neither hang nor free what the writer still
 * uses, and the writer, once the hang-up reaches its stream, fails with
 * ENXIO.  A stress, run many times with the close landing after more or
 * fewer messages; the sanitizer builds check the memory and the races.
 */
static void *
hup_writer(void *arg)
{
	struct seq_arg *sa = arg;
	uint32_t w[2] = { 0, 0 };

	for (;;) {
		if (ustreams_write(sa->sa_sd, w, sizeof (w)) < 0) {
			sa->sa_error = errno;
			break;
		}
		sa->sa_count++;
	}
	return (NULL);
}

START_TEST(loop_close_under_the_peers_writes_waits_for_its_holds_threads)
{
	const int rounds = 50;

	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_THREADS);
	for (int r = 0; r < rounds; r++) {
		struct seq_arg wa = { 0 };
		pthread_t wt;
		int a, b;

		loop_pair(O_RDWR, &a, &b);
		wa.sa_sd = a;
		ck_assert_int_eq(pthread_create(&wt, NULL, hup_writer, &wa),
		    0);
		/* Let some through, then close under the writer. */
		for (int i = 0; i < 20 * (r % 5); i++) {
			uint32_t w[4];
			struct strbuf data = { sizeof (w), 0, (char *)w };
			int flags = 0;

			ck_assert_int_eq(ustreams_getmsg(b, NULL, &data,
			    &flags), 0);
			ck_assert_int_eq(data.len, 8);
		}
		ck_assert_int_eq(ustreams_close(b), 0);
		ck_assert_int_eq(pthread_join(wt, NULL), 0);
		ck_assert_int_eq(wa.sa_error, ENXIO);
		ck_assert_int_eq(ustreams_close(a), 0);
	}
}
END_TEST

/* Popping an MT-safe module under traffic. */

/*
 * mtprobe: an MT-safe module whose write put procedure, for M_DATA, stays
 * inside (up to a second) until released, and whose close records whether
 * a put procedure was still running when it was called.  SVR5's qprocsoff
 * (and Solaris') returns only when no thread is inside a put or service
 * procedure, so close may free q_ptr; a close called while a put
 * procedure still ran would be a use after free in every MT-safe module
 * that frees its state at close (passthru does).
 */
static _Atomic int probe_inside, probe_closed, probe_closed_while_inside;

static int
probe_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	qprocson(q);
	return (0);
}

static int
probe_close(queue_t *q, int oflag, cred_t *crp)
{
	qprocsoff(q);
	if (probe_inside)
		probe_closed_while_inside = 1;
	probe_closed = 1;
	return (0);
}

static int
probe_wput(queue_t *q, mblk_t *mp)
{
	if (DB_TYPE(mp) == M_DATA) {
		struct timespec t0, t;

		probe_inside = 1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			sched_yield();
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (!probe_closed && t.tv_sec - t0.tv_sec < 2);
		probe_inside = 0;
	}
	putnext(q, mp);
	return (0);
}

static int
probe_rput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info probe_minfo = { 0x7001, "mtprobe", 0, INFPSZ,
    8192, 2048 };
static struct qinit probe_rinit = { probe_rput, NULL, probe_open,
    probe_close, NULL, &probe_minfo, NULL };
static struct qinit probe_winit = { probe_wput, NULL, NULL, NULL, NULL,
    &probe_minfo, NULL };
static struct streamtab probe_info = { &probe_rinit, &probe_winit, NULL,
    NULL };

static void *
probe_writer(void *arg)
{
	int sd = *(int *)arg;

	(void) ustreams_write(sd, "x", 1);
	return (NULL);
}

START_TEST(pop_of_mtsafe_module_waits_for_its_running_put_threads)
{
	pthread_t wt;
	int sd, r;

	r = ustreams_register_module("mtprobe", &probe_info, USTREAMS_MTSAFE);
	ck_assert(r == 0 || r == EEXIST);
	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_THREADS);
	probe_inside = probe_closed = probe_closed_while_inside = 0;
	sd = sopen("null", O_RDWR);
	push(sd, "mtprobe");
	ck_assert_int_eq(pthread_create(&wt, NULL, probe_writer, &sd), 0);
	while (!probe_inside)
		sched_yield();
	/* A write is inside mtprobe's put procedure: pop it now. */
	ck_assert_int_eq(ustreams_ioctl(sd, I_POP, 0), 0);
	ck_assert_int_eq(pthread_join(wt, NULL), 0);
	ck_assert_msg(!probe_closed_while_inside,
	    "close ran while the module's put procedure was still running");
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

/*
 * The same with passthru, as shipped: a writer on loop stream a sends
 * through passthru pushed on b (its read put procedure runs on the
 * writer's thread, MT-safe), while b pushes and pops passthru.
 * passthruclose frees the counters that passthrurput updates, so it must
 * not run while a put procedure does (ThreadSanitizer would report the
 * race; a release build could crash on the cleared q_ptr).
 */
/*
 * The writer stops first, while the reader still drains (a blocked write
 * needs it), then the reader.
 */
static _Atomic int pt_wstop, pt_rstop;

static void *
pt_writer(void *arg)
{
	int sd = *(int *)arg;
	char c = 'x';

	while (!pt_wstop)
		if (ustreams_write(sd, &c, 1) < 0)
			break;
	return (NULL);
}

static void *
pt_reader(void *arg)
{
	int sd = *(int *)arg;
	char buf[4096];

	while (!pt_rstop)
		if (ustreams_read(sd, buf, sizeof (buf)) <= 0)
			break;
	return (NULL);
}

START_TEST(passthru_pop_under_traffic_threads)
{
	pthread_t wt, rt;
	int a, b;

	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_THREADS);
	loop_pair(O_RDWR, &a, &b);
	pt_wstop = pt_rstop = 0;
	ck_assert_int_eq(pthread_create(&rt, NULL, pt_reader, &b), 0);
	ck_assert_int_eq(pthread_create(&wt, NULL, pt_writer, &a), 0);
	for (int i = 0; i < 2000; i++) {
		push(b, "passthru");
		ck_assert_int_eq(ustreams_ioctl(b, I_POP, 0), 0);
	}
	pt_wstop = 1;
	ck_assert_int_eq(pthread_join(wt, NULL), 0);
	pt_rstop = 1;
	/* The reader may wait: one more message wakes it. */
	write_str(a, "z");
	ck_assert_int_eq(pthread_join(rt, NULL), 0);
	ck_assert_int_eq(ustreams_close(a), 0);
	ck_assert_int_eq(ustreams_close(b), 0);
}
END_TEST

/*
 * errmod(7): "when the ioctl returns, the stream head has the message".
 * Under the threads executive, with traffic coming up through errmod, the
 * M_IOCTL can be left in errmod's perimeter for the thread inside, which
 * sends the M_IOCACK (waking the ioctl) before the M_HANGUP.
 */
static _Atomic int em_stop;

static void *
em_writer(void *arg)
{
	int sd = *(int *)arg;
	char c[64] = "x";

	while (!em_stop)
		(void) ustreams_write(sd, c, sizeof (c));
	return (NULL);
}

static void *
em_reader(void *arg)
{
	int sd = *(int *)arg;
	char buf[4096];

	while (!em_stop)
		(void) ustreams_read(sd, buf, sizeof (buf));
	return (NULL);
}

/*
 * errmod(7): ERRMOD_UNHANGUP "undoes M_HANGUP".  On a stream hung up
 * before the ioctl was sent, the ioctl waits for errmod's answer and
 * succeeds (threads executive, with traffic both ways).
 */
START_TEST(errmod_unhangup_reports_success_when_it_succeeds_threads)
{
	pthread_t wt, rt;
	int sd, i, bad = 0, bad_errno = 0, unhung_after = 0;

	ck_assert_int_eq(ustreams_register_builtins(), 0);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_THREADS);
	sd = sopen("echo", O_RDWR | O_NONBLOCK);
	push(sd, "errmod");
	em_stop = 0;
	ck_assert_int_eq(pthread_create(&rt, NULL, em_reader, &sd), 0);
	ck_assert_int_eq(pthread_create(&wt, NULL, em_writer, &sd), 0);
	for (i = 0; i < 2000 && bad == 0; i++) {
		ck_assert_int_eq(strioc(sd, ERRMOD_HANGUP, NULL, 0), 0);
		while (!(poll_one(sd, POLLOUT) & POLLHUP))
			sched_yield();
		if (strioc(sd, ERRMOD_UNHANGUP, NULL, 0) != 0) {
			struct timespec ms10 = { 0, 10 * 1000 * 1000 };

			bad = i + 1;
			bad_errno = errno;
			(void) nanosleep(&ms10, NULL);
			unhung_after = !(poll_one(sd, POLLOUT) & POLLHUP);
		}
		while (poll_one(sd, POLLOUT) & POLLHUP)
			sched_yield();
	}
	em_stop = 1;
	ck_assert_int_eq(pthread_join(wt, NULL), 0);
	ck_assert_int_eq(pthread_join(rt, NULL), 0);
	ck_assert_msg(bad == 0, "ERRMOD_UNHANGUP failed (errno %d) at "
	    "iteration %d, yet 10 ms later the stream was unhung: %d", bad_errno,
	    bad, unhung_after);
	ck_assert_int_eq(ustreams_close(sd), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("drivers");
	TCase *tc;

	tc = harness_tcase("register", 10);
	tcase_add_test(tc, register_builtins_is_idempotent);
	tcase_add_test(tc,
	    drivers_open_and_modules_push_by_their_own_names_only);
	tcase_add_test(tc, drivers_free_the_messages_they_do_not_know);
	suite_add_tcase(s, tc);

	tc = harness_tcase("echo", 10);
	tcase_add_test(tc, echo_returns_writes_of_every_size_unchanged);
	tcase_add_test(tc,
	    echo_returns_proto_and_pcproto_messages_with_their_parts);
	tcase_add_test(tc, echo_replies_high_priority_before_queued_data);
	tcase_add_test(tc, echo_flushw_discards_what_was_not_yet_echoed);
	tcase_add_test(tc, echo_flushband_discards_only_that_band);
	tcase_add_test(tc, echo_and_null_give_their_minors_back_on_close);
	tcase_add_test(tc, echo_turns_flushr_back_up);
	tcase_add_test(tc, echo_refuses_every_ioctl_with_einval);
	tcase_add_test(tc, echo_backs_up_to_the_writer_and_resumes_when_read);
	tcase_add_test(tc,
	    echo_streams_are_independent_and_give_all_memory_back);
	suite_add_tcase(s, tc);

	tc = harness_tcase("null", 10);
	tcase_add_test(tc, null_swallows_and_counts_every_data_message);
	tcase_add_test(tc, null_counts_per_stream_and_refuses_other_ioctls);
	suite_add_tcase(s, tc);

	tc = harness_tcase("loop", 10);
	tcase_add_test(tc, loop_joins_two_streams_both_ways);
	tcase_add_test(tc, loop_set_refuses_bad_minors_and_busy_streams);
	tcase_add_test(tc, loop_write_on_an_unjoined_stream_raises_enxio);
	tcase_add_test(tc, loop_flow_control_crosses_to_the_writer);
	tcase_add_test(tc, loop_flushw_flushes_the_other_read_side);
	tcase_add_test(tc, loop_one_byte_m_flush_flushes_the_other_read_side);
	tcase_add_test(tc, loop_flushr_flushes_the_other_write_side_only);
	tcase_add_test(tc, loop_close_hangs_up_the_other_stream);
	tcase_add_test(tc, loop_hung_up_stream_cannot_be_joined_again);
	tcase_add_test(tc, loop_close_discards_what_was_not_across);
	tcase_add_test(tc, loop_has_64_minors_reused_lowest_first);
	tcase_add_test(tc, loop_flushband_flushes_only_that_band_across);
	tcase_add_test(tc,
	    loop_flushr_discards_what_the_other_stream_had_yet_to_send);
	tcase_add_test(tc, loop_turns_flushr_back_up_to_the_modules_above);
	tcase_add_test(tc,
	    loop_first_open_short_of_memory_fails_and_takes_nothing);
	suite_add_tcase(s, tc);

	tc = harness_tcase("passthru", 10);
	tcase_add_test(tc, passthru_counts_messages_each_way);
	tcase_add_test(tc, passthru_instances_count_separately);
	suite_add_tcase(s, tc);

	tc = harness_tcase("slow", 10);
	tcase_add_test(tc,
	    slow_backs_up_writers_and_spends_its_cost_in_virtual_time);
	tcase_add_test(tc,
	    slow_setcost_checks_its_argument_and_passes_other_ioctls);
	tcase_add_test(tc,
	    slow_flushw_discards_every_band_queued_and_passes_on);
	suite_add_tcase(s, tc);

	tc = harness_tcase("errmod", 10);
	tcase_add_test(tc, errmod_one_byte_error_fails_reads_and_writes);
	tcase_add_test(tc, errmod_two_byte_errors_set_each_side_alone);
	tcase_add_test(tc,
	    errmod_hangup_ends_reads_and_writes_until_unhangup);
	tcase_add_test(tc,
	    errmod_refuses_bad_payloads_and_passes_other_ioctls);
	suite_add_tcase(s, tc);

	tc = harness_tcase("close", 10);
	tcase_add_test(tc, close_time_is_15_seconds_and_checked);
	tcase_add_test(tc, close_waits_for_a_module_to_drain);
	tcase_add_test(tc,
	    close_waits_for_a_module_to_drain_however_late_it_closes);
	tcase_add_test(tc, close_gives_up_after_the_close_time);
	tcase_add_test(tc, close_does_not_wait_when_nonblocking_or_told_not_to);
	suite_add_tcase(s, tc);

	tc = harness_tcase("threads", 120);
	tcase_add_test(tc,
	    loop_through_passthru_keeps_10000_messages_in_order_threads);
	tcase_add_test(tc,
	    loop_writer_short_of_memory_keeps_every_message_threads);
	tcase_add_test(tc,
	    loop_close_under_the_peers_writes_waits_for_its_holds_threads);
	tcase_add_test(tc, close_waits_while_the_other_side_reads_threads);
	tcase_add_test(tc, close_waits_for_slow_to_drain_threads);
	suite_add_tcase(s, tc);

	tc = harness_tcase("pop under traffic", 60);
	tcase_add_test(tc,
	    pop_of_mtsafe_module_waits_for_its_running_put_threads);
	tcase_add_test(tc, passthru_pop_under_traffic_threads);
	suite_add_tcase(s, tc);

	tc = harness_tcase("hang-up ioctls", 120);
	tcase_add_test(tc,
	    errmod_unhangup_reports_success_when_it_succeeds_threads);
	suite_add_tcase(s, tc);

	return (harness_run(s));
}
