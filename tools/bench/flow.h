/*
 * The stream-throughput benchmark (private to tools/bench): messages of
 * one size through a stream, against the same messages through a pipe.
 *
 * A flow is a path that carries messages from a writer to a reader: the
 * stream (flow_ustreams.c: write -> passthru -> loop -> read, on two loop
 * streams joined with LOOP_SET), a pipe (flow_pipe.c), or, for two
 * threads only, a bare locked hand-off (flow_handoff.c): the least any
 * locked queue costs, for reference.  Like an
 * allocator's table (bench.h), a flow is a table of loops, not of single
 * operations, so that the calls under test are direct calls in the timed
 * loop:
 *  - bf_echo: n times, write one message and read it back, on one thread;
 *  - bf_write: write n messages; bf_read: read n messages (a writer
 *    thread and a reader thread, run together).
 * bf_echo may be NULL: the flow is measured with two threads only.
 * bf_open makes the path, bf_close takes it down again; between them the
 * path is empty whenever no loop runs (every loop reads what it wrote).
 *
 * Every message is checked.  Its first eight bytes hold its sequence
 * number, its last eight the complement of it; the rest is a fixed
 * pattern.  The reader checks each message's length and both numbers
 * against the one it expects next.  The first mismatch stops the loop,
 * which returns -1 with the reason in fr_why: the figure is then invalid,
 * and the report says so instead of printing it.
 */
#ifndef _TOOLS_BENCH_FLOW_H
#define	_TOOLS_BENCH_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#define	FLOW_SIZE_MIN	16	/* room for both sequence numbers */
#define	FLOW_SIZE_MAX	4096	/* a pipe's write stays atomic (PIPE_BUF) */
#define	FLOW_WHY_LEN	200

/*
 * One run of a loop: the sequence number of its first message (runs
 * carry on from each other, so that a message left over from an earlier
 * run is caught), and what went wrong.
 */
struct flow_run {
	uint64_t	fr_seq;			/* first message's number */
	char		fr_why[FLOW_WHY_LEN];	/* set when a loop fails */
};

struct bench_flow {
	const char	*bf_name;	/* key part: "ustreams", "pipe", ... */
	int		(*bf_open)(char *why, size_t len);
	void		(*bf_close)(void);
	int		(*bf_echo)(size_t size, long n, struct flow_run *fr);
	int		(*bf_write)(size_t size, long n, struct flow_run *fr);
	int		(*bf_read)(size_t size, long n, struct flow_run *fr);
};

extern const struct bench_flow bench_flow_ustreams;	/* flow_ustreams.c */
extern const struct bench_flow bench_flow_pipe;		/* flow_pipe.c */
extern const struct bench_flow bench_flow_handoff;	/* flow_handoff.c */

/* The message sizes: a small message, and an Ethernet frame's payload. */
#define	FLOW_NSIZES	2
extern const size_t flow_sizes[FLOW_NSIZES];

/*
 * flow_measure.c.  fl lists the flows to measure side by side, ending
 * with NULL: fl[0] is the pipe, which the others are compared with.
 * flow_one: the flows' bf_echo loops, runs alternating (a flow without
 * bf_echo is left out); flow_two: their writer and reader threads, rounds
 * alternating.  Each emits, per flow and size, flow.NAME.WHAT.SIZE (ns
 * per message: median, fastest, slowest run), and for every flow but the
 * pipe flow.ratio.NAME.WHAT.SIZE (median, min, max over alternating
 * runs: the pipe's time over the flow's, that is the flow's throughput
 * over the pipe's), WHAT being the case given (e.g. "one.sim").  A flow
 * that could not be measured or failed its check gets
 * "flow.NAME.WHAT.SIZE invalid REASON" instead.
 */
extern void flow_one(const struct bench_flow *const *fl, const char *what);
extern void flow_two(const struct bench_flow *const *fl, const char *what);

/*
 * flow.NAME.checked: how many messages each flow carried and had checked
 * in all (calibration and warm-up runs included).  flow_watchdog_start:
 * end the program, saying why, when no run has finished for a minute.
 */
extern void flow_emit_checked(const struct bench_flow *const *fl);
extern void flow_watchdog_start(void);

/*
 * The calling thread's message buffer (FLOW_SIZE_MAX + 1 bytes, 64-byte
 * aligned), filled with the pattern on first use; flow_measure.c.  Per
 * thread, so that a writer and a reader never share one.
 */
extern unsigned char *flow_buffer(void);

/* Fill a message buffer once: the pattern between the numbers. */
static inline void
flow_fill(unsigned char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)(i * 31 + 7);
}

/* Number a message: seq in front, its complement at the end. */
static inline void
flow_stamp(unsigned char *buf, size_t size, uint64_t seq)
{
	uint64_t inv = ~seq;

	memcpy(buf, &seq, sizeof (seq));
	memcpy(buf + size - sizeof (inv), &inv, sizeof (inv));
}

/*
 * Check a message read: got bytes, expected size and number seq.  true
 * when it is right; otherwise false, with the reason in fr->fr_why.
 */
static inline bool
flow_check(const unsigned char *buf, ssize_t got, size_t size, uint64_t seq,
    struct flow_run *fr)
{
	uint64_t head, tail;

	if (got != (ssize_t)size) {
		(void) snprintf(fr->fr_why, sizeof (fr->fr_why),
		    "message %llu: %zd bytes read, %zu written",
		    (unsigned long long)seq, got, size);
		return (false);
	}
	memcpy(&head, buf, sizeof (head));
	memcpy(&tail, buf + size - sizeof (tail), sizeof (tail));
	if (head != seq || tail != ~seq) {
		(void) snprintf(fr->fr_why, sizeof (fr->fr_why),
		    "message %llu expected, %llu read (end: %llu)",
		    (unsigned long long)seq, (unsigned long long)head,
		    (unsigned long long)~tail);
		return (false);
	}
	return (true);
}

#endif	/* _TOOLS_BENCH_FLOW_H */
