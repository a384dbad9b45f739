/*
 * The reference: the same messages through a pipe(2), write(2) on one
 * end and read(2) on the other.
 *
 * The pipe is made with pipe2(fds, 0): blocking, and the default buffer
 * (64 KiB on Linux; its size is printed as flow.pipe.bufsize).  A pipe is
 * a byte stream, so a message is read as a byte stream is: read(2) until
 * its size is in, which is one call when, as here, every write is of at
 * most PIPE_BUF bytes and so arrives whole.  The numbers in each message
 * show that nothing was lost, repeated or cut.  SIGPIPE must be ignored
 * by the program (main_stream.c does), so that a writer left without a
 * reader gets EPIPE.
 */
#include "bench.h"
#include "flow.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int pipe_rfd = -1, pipe_wfd = -1;
static bool pipe_told;			/* flow.pipe.bufsize printed */

static int
pipe_open(char *why, size_t len)
{
	int fds[2], sz;

	if (pipe2(fds, 0) != 0) {
		(void) snprintf(why, len, "pipe2: %s", strerror(errno));
		return (-1);
	}
	pipe_rfd = fds[0];
	pipe_wfd = fds[1];
	if (!pipe_told && (sz = fcntl(pipe_wfd, F_GETPIPE_SZ)) > 0) {
		bench_emitf("flow.pipe.bufsize", "%d", sz);
		pipe_told = true;
	}
	return (0);
}

static void
pipe_close(void)
{
	if (pipe_wfd >= 0)
		(void) close(pipe_wfd);
	if (pipe_rfd >= 0)
		(void) close(pipe_rfd);
	pipe_rfd = pipe_wfd = -1;
}

static int
pipe_write_one(unsigned char *buf, size_t size, uint64_t seq,
    struct flow_run *fr)
{
	ssize_t put;

	flow_stamp(buf, size, seq);
	while ((put = write(pipe_wfd, buf, size)) < 0 && errno == EINTR)
		;
	if (put == (ssize_t)size)
		return (0);
	(void) snprintf(fr->fr_why, sizeof (fr->fr_why),
	    "message %llu: write gave %zd (%s)", (unsigned long long)seq,
	    put, put < 0 ? strerror(errno) : "short");
	return (-1);
}

static int
pipe_read_one(unsigned char *buf, size_t size, uint64_t seq,
    struct flow_run *fr)
{
	size_t done = 0;

	while (done < size) {
		ssize_t got = read(pipe_rfd, buf + done, size - done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			(void) snprintf(fr->fr_why, sizeof (fr->fr_why),
			    "message %llu: read: %s",
			    (unsigned long long)seq, strerror(errno));
			return (-1);
		}
		if (got == 0)
			break;			/* end of file: short */
		done += (size_t)got;
	}
	return (flow_check(buf, (ssize_t)done, size, seq, fr) ? 0 : -1);
}

static int
pipe_echo(size_t size, long n, struct flow_run *fr)
{
	unsigned char *buf = flow_buffer();

	for (long i = 0; i < n; i++) {
		uint64_t seq = fr->fr_seq + (uint64_t)i;

		if (pipe_write_one(buf, size, seq, fr) != 0 ||
		    pipe_read_one(buf, size, seq, fr) != 0)
			return (-1);
	}
	return (0);
}

/* A writer or reader that fails closes its end, as flow_ustreams.c does. */
static int
pipe_write(size_t size, long n, struct flow_run *fr)
{
	unsigned char *buf = flow_buffer();

	for (long i = 0; i < n; i++) {
		if (pipe_write_one(buf, size, fr->fr_seq + (uint64_t)i,
		    fr) != 0) {
			(void) close(pipe_wfd);
			pipe_wfd = -1;
			return (-1);
		}
	}
	return (0);
}

static int
pipe_read(size_t size, long n, struct flow_run *fr)
{
	unsigned char *buf = flow_buffer();

	for (long i = 0; i < n; i++) {
		if (pipe_read_one(buf, size, fr->fr_seq + (uint64_t)i,
		    fr) != 0) {
			(void) close(pipe_rfd);
			pipe_rfd = -1;
			return (-1);
		}
	}
	return (0);
}

const struct bench_flow bench_flow_pipe = {
	.bf_name = "pipe",
	.bf_open = pipe_open,
	.bf_close = pipe_close,
	.bf_echo = pipe_echo,
	.bf_write = pipe_write,
	.bf_read = pipe_read,
};
