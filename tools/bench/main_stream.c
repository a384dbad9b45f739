/*
 * bench-stream: messages per second through a stream, against a pipe.
 *
 * write -> passthru -> loop -> read (flow_ustreams.c) and pipe(2)
 * write+read (flow_pipe.c), at 64 and 1500 bytes, measured side by side
 * in the same runs (flow_measure.c), three ways:
 *
 *	one.sim	one thread writes a message and reads it back; the
 *		instance runs the sim executive, so loop's service
 *		procedure runs on that thread too (inside the read that
 *		waits for it): the cost of the path, with no hand-off
 *	one.thr	the same under the threads executive (two service
 *		threads); what flow control defers, the stream head's
 *		calls run on their way out, as SVR4 did
 *	two	a writer thread and a reader thread, threads executive;
 *		beside them a bare locked hand-off (flow_handoff.c), the
 *		least any locked queue costs on this machine
 *
 * Two instances are booted in turn (a process runs one at a time), each
 * with the default 16 MB budget.  Prints "key figures" lines (bench.h)
 * for the report program.  SIGPIPE is ignored, so that a pipe writer
 * whose reader gave up fails with EPIPE instead of ending the program.
 */
#include "bench.h"
#include "flow.h"

#include <sys/ustreams.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define	THR_NCPUS	2

static int
instance_boot(enum ustreams_exec exec)
{
	struct ustreams_config cfg;
	int error;

	ustreams_config_init(&cfg);
	cfg.uc_exec = exec;
	cfg.uc_ncpus = THR_NCPUS;
	if ((error = ustreams_boot(&cfg)) != 0) {
		fprintf(stderr, "bench-stream: ustreams_boot: %s\n",
		    strerror(error));
		bench_skip("stream", "ustreams_boot: %s", strerror(error));
	}
	return (error);
}

static int
instance_shutdown(void)
{
	int error;

	if ((error = ustreams_shutdown()) != 0) {
		fprintf(stderr, "bench-stream: ustreams_shutdown: %s\n",
		    strerror(error));
		bench_skip("stream", "ustreams_shutdown: %s",
		    strerror(error));
	}
	return (error);
}

int
main(void)
{
	/* The pipe first: the others are compared with it. */
	static const struct bench_flow *const fl[] = { &bench_flow_pipe,
		&bench_flow_ustreams, &bench_flow_handoff, NULL };

	bench_init();
	(void) signal(SIGPIPE, SIG_IGN);
	flow_watchdog_start();
	bench_emitf("flow.thr.ncpus", "%d", THR_NCPUS);

	if (instance_boot(USTREAMS_EXEC_SIM) != 0)
		return (1);
	flow_one(fl, "one.sim");
	if (instance_shutdown() != 0)
		return (1);

	if (instance_boot(USTREAMS_EXEC_THREADS) != 0)
		return (1);
	flow_one(fl, "one.thr");
	flow_two(fl, "two");
	if (instance_shutdown() != 0)
		return (1);

	flow_emit_checked(fl);
	return (0);
}
