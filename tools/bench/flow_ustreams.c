/*
 * The stream under test: write -> passthru -> loop -> read.
 *
 * Two loop(7) streams are opened and joined with LOOP_SET (the minor of
 * the second from LOOP_GETMINOR); passthru(7) is pushed on the first,
 * the writing stream, and the second, the reading stream, is set to
 * RMSGN, so that one read takes one message.  A message written on the
 * first goes down through passthru's write put procedure into loop's
 * write queue; loop's write service procedure, run by the executive,
 * sends it up the second stream to its head, where the read takes it.
 * Water marks and packet sizes are the defaults: loop's write queue
 * 8192/2048 bytes, the stream head's read queue 5120/1024, passthru none
 * of its own (no service procedure).
 *
 * A read asks for one byte more than the size written, so that a message
 * that came out longer is seen as such and not cut to size.  The
 * calls are the application's: ustreams_write and ustreams_read, in base
 * context, on a booted instance of either executive.  Under the sim
 * executive the read that finds nothing runs the pending events itself,
 * loop's service procedure among them; under the threads executive a
 * service thread runs it and the read sleeps until it is woken.
 */
#include "bench.h"
#include "flow.h"

#include <sys/stropts.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <fcntl.h>

static int ust_wsd = -1;		/* writing stream, passthru pushed */
static int ust_rsd = -1;		/* the reading stream, RMSGN */

/*
 * Add what passthru counted going down to the total, printed as
 * flow.ustreams.passthru: the messages did go through the module.
 */
static void
ust_count_passthru(void)
{
	static uint64_t total;
	struct passthru_stats ps;
	struct strioctl sio = { .ic_cmd = PASSTHRU_GETSTATS,
	    .ic_len = sizeof (ps), .ic_dp = (char *)&ps };

	if (ust_wsd < 0 || ustreams_ioctl(ust_wsd, I_STR, &sio) < 0)
		return;
	total += ps.ps_down_msgs;
	bench_emitf("flow.ustreams.passthru", "%llu",
	    (unsigned long long)total);
}

static void
ust_close(void)
{
	ust_count_passthru();
	if (ust_wsd >= 0)
		(void) ustreams_close(ust_wsd);
	if (ust_rsd >= 0)
		(void) ustreams_close(ust_rsd);
	ust_wsd = ust_rsd = -1;
}

/* Say what failed (errno), and close what was opened. */
static int
ust_fail(char *why, size_t len, const char *what)
{
	(void) snprintf(why, len, "%s: %s", what, strerror(errno));
	ust_close();
	return (-1);
}

static int
ust_open(char *why, size_t len)
{
	struct strioctl sio;
	int minor, error;

	if ((error = ustreams_register_builtins()) != 0) {
		errno = error;
		return (ust_fail(why, len, "ustreams_register_builtins"));
	}
	if ((ust_wsd = ustreams_open("loop", O_RDWR)) < 0)
		return (ust_fail(why, len, "ustreams_open loop"));
	if ((ust_rsd = ustreams_open("loop", O_RDWR)) < 0)
		return (ust_fail(why, len, "ustreams_open loop"));
	sio = (struct strioctl){ .ic_cmd = LOOP_GETMINOR };
	if ((minor = ustreams_ioctl(ust_rsd, I_STR, &sio)) < 0)
		return (ust_fail(why, len, "LOOP_GETMINOR"));
	sio = (struct strioctl){ .ic_cmd = LOOP_SET,
	    .ic_len = sizeof (minor), .ic_dp = (char *)&minor };
	if (ustreams_ioctl(ust_wsd, I_STR, &sio) < 0)
		return (ust_fail(why, len, "LOOP_SET"));
	if (ustreams_ioctl(ust_wsd, I_PUSH, "passthru") < 0)
		return (ust_fail(why, len, "I_PUSH passthru"));
	if (ustreams_ioctl(ust_rsd, I_SRDOPT, RMSGN) < 0)
		return (ust_fail(why, len, "I_SRDOPT RMSGN"));
	return (0);
}

static int
ust_write_one(unsigned char *buf, size_t size, uint64_t seq,
    struct flow_run *fr)
{
	ssize_t put;

	flow_stamp(buf, size, seq);
	if ((put = ustreams_write(ust_wsd, buf, size)) == (ssize_t)size)
		return (0);
	(void) snprintf(fr->fr_why, sizeof (fr->fr_why),
	    "message %llu: ustreams_write gave %zd (%s)",
	    (unsigned long long)seq, put, put < 0 ? strerror(errno) : "short");
	return (-1);
}

static int
ust_read_one(unsigned char *buf, size_t size, uint64_t seq,
    struct flow_run *fr)
{
	ssize_t got = ustreams_read(ust_rsd, buf, size + 1);

	if (got < 0) {
		(void) snprintf(fr->fr_why, sizeof (fr->fr_why),
		    "message %llu: ustreams_read: %s",
		    (unsigned long long)seq, strerror(errno));
		return (-1);
	}
	return (flow_check(buf, got, size, seq, fr) ? 0 : -1);
}

static int
ust_echo(size_t size, long n, struct flow_run *fr)
{
	unsigned char *buf = flow_buffer();

	for (long i = 0; i < n; i++) {
		uint64_t seq = fr->fr_seq + (uint64_t)i;

		if (ust_write_one(buf, size, seq, fr) != 0 ||
		    ust_read_one(buf, size, seq, fr) != 0)
			return (-1);
	}
	return (0);
}

/*
 * The writer and the reader.  One that fails closes its own stream, so
 * that the other is not left waiting for ever: the writer's close hangs
 * up the reading stream (its reads return 0), the reader's hangs up the
 * writing one (its writes fail with ENXIO).
 */
static int
ust_write(size_t size, long n, struct flow_run *fr)
{
	unsigned char *buf = flow_buffer();

	for (long i = 0; i < n; i++) {
		if (ust_write_one(buf, size, fr->fr_seq + (uint64_t)i,
		    fr) != 0) {
			(void) ustreams_close(ust_wsd);
			ust_wsd = -1;
			return (-1);
		}
	}
	return (0);
}

static int
ust_read(size_t size, long n, struct flow_run *fr)
{
	unsigned char *buf = flow_buffer();

	for (long i = 0; i < n; i++) {
		if (ust_read_one(buf, size, fr->fr_seq + (uint64_t)i,
		    fr) != 0) {
			(void) ustreams_close(ust_rsd);
			ust_rsd = -1;
			return (-1);
		}
	}
	return (0);
}

const struct bench_flow bench_flow_ustreams = {
	.bf_name = "ustreams",
	.bf_open = ust_open,
	.bf_close = ust_close,
	.bf_echo = ust_echo,
	.bf_write = ust_write,
	.bf_read = ust_read,
};
