/*
 * A reference for the two-thread figure: the least that handing messages
 * from one thread to another under a lock costs, with nothing of STREAMS
 * in the way.
 *
 * Whatever a stream does, a message written on one CPU and read on
 * another crosses between them: the writer links it into a queue under a
 * lock, the reader unlinks it under the same lock, and the lock, the
 * queue's ends and the message's lines move between the two CPUs with
 * every message.  This flow does exactly that and nothing else, so its
 * throughput over the pipe's, in the same runs, bounds what any locked
 * queue -- a stream head's among them -- can reach on this machine at this
 * moment.  It is measured beside the stream only with a writer and a
 * reader thread (it has no bf_echo: on one thread nothing crosses).
 *
 * What it keeps of a stream, and no more:
 *  - the message is copied in from the writer's buffer and out to the
 *    reader's, as ustreams_write and ustreams_read copy;
 *  - one lock acquisition a message on each side: the writer takes slots
 *    from a private stash, which it refills with the whole free list under
 *    the lock only when it is empty (as allocb takes blocks from a
 *    per-CPU magazine); the reader gives back the slot of the message it
 *    read before in the same hold of the lock that takes the next one;
 *  - a bounded queue (HO_NSLOTS messages in all, flow control), and
 *    waits that spin before they sleep, as SV_WAIT does (ddi/ksynch.c):
 *    the reader watches the queue's head without the lock for up to
 *    HO_SPIN_NS, then sleeps on a condition variable, and the writer
 *    signals only a reader that sleeps.  The writer, finding no free slot,
 *    waits the same way.
 * The messages are numbered and checked like the others (flow.h).
 *
 * Locking: ho_lock protects ho_first, ho_last, ho_free and the two
 * sleeping flags.  ho_first is also read without the lock, by a reader
 * that spins, and ho_free by a writer that spins: only as hints, taken
 * again under the lock.  The writer's stash is its own.
 */
#include "bench.h"
#include "flow.h"

#include <pthread.h>
#include <stdlib.h>

#define	HO_NSLOTS	256
#define	HO_SPIN_NS	50000

struct ho_slot {
	struct ho_slot	*hs_next;
	size_t		hs_len;
	unsigned char	hs_data[FLOW_SIZE_MAX] __attribute__((aligned(64)));
};

static pthread_mutex_t ho_lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static pthread_cond_t ho_readable = PTHREAD_COND_INITIALIZER;
static pthread_cond_t ho_writable = PTHREAD_COND_INITIALIZER;
static struct ho_slot *ho_first, *ho_last;	/* the messages, in order */
static struct ho_slot *ho_free;			/* slots given back */
static bool ho_reader_asleep, ho_writer_asleep;
static struct ho_slot *ho_slots;		/* all HO_NSLOTS */
static struct ho_slot *ho_stash;		/* the writer's own */

static int
ho_open(char *why, size_t len)
{
	ho_slots = aligned_alloc(64, HO_NSLOTS * sizeof (*ho_slots));
	if (ho_slots == NULL) {
		(void) snprintf(why, len, "no memory for %d slots", HO_NSLOTS);
		return (-1);
	}
	ho_first = ho_last = NULL;
	ho_stash = NULL;
	ho_free = NULL;
	for (int i = 0; i < HO_NSLOTS; i++) {
		ho_slots[i].hs_next = ho_free;
		ho_free = &ho_slots[i];
	}
	return (0);
}

static void
ho_close(void)
{
	free(ho_slots);
	ho_slots = ho_first = ho_last = ho_free = ho_stash = NULL;
}

/* Spin while *p is NULL, up to HO_SPIN_NS; true if it became non-NULL. */
static bool
ho_spin(struct ho_slot *const *p)
{
	uint64_t deadline = 0;

	for (unsigned i = 1;; i++) {
		if (__atomic_load_n(p, __ATOMIC_RELAXED) != NULL)
			return (true);
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		if ((i & 63) == 0) {
			uint64_t t = bench_now_ns();

			if (deadline == 0)
				deadline = t + HO_SPIN_NS;
			else if (t >= deadline)
				return (false);
		}
	}
}

/* A free slot for the writer: from its stash, else the free list. */
static struct ho_slot *
ho_get_slot(void)
{
	struct ho_slot *s;

	if (ho_stash == NULL) {
		(void) ho_spin(&ho_free);
		pthread_mutex_lock(&ho_lock);
		while (ho_free == NULL) {
			ho_writer_asleep = true;
			pthread_cond_wait(&ho_writable, &ho_lock);
		}
		ho_stash = ho_free;
		ho_free = NULL;
		pthread_mutex_unlock(&ho_lock);
	}
	s = ho_stash;
	ho_stash = s->hs_next;
	return (s);
}

static void
ho_write_one(unsigned char *buf, size_t size, uint64_t seq)
{
	struct ho_slot *s = ho_get_slot();

	flow_stamp(buf, size, seq);
	memcpy(s->hs_data, buf, size);
	s->hs_len = size;
	s->hs_next = NULL;
	pthread_mutex_lock(&ho_lock);
	if (ho_last != NULL)
		ho_last->hs_next = s;
	else
		__atomic_store_n(&ho_first, s, __ATOMIC_RELAXED);
	ho_last = s;
	if (ho_reader_asleep) {
		ho_reader_asleep = false;
		pthread_cond_signal(&ho_readable);
	}
	pthread_mutex_unlock(&ho_lock);
}

/* Put a slot the reader is done with on the free list (ho_lock held). */
static void
ho_free_slot(struct ho_slot *s)
{
	s->hs_next = ho_free;
	__atomic_store_n(&ho_free, s, __ATOMIC_RELAXED);
	if (ho_writer_asleep) {
		ho_writer_asleep = false;
		pthread_cond_signal(&ho_writable);
	}
}

/*
 * Take the next message, giving back prev (the slot of the one read
 * before, or NULL) in the same hold of the lock.
 */
static struct ho_slot *
ho_take(struct ho_slot *prev)
{
	struct ho_slot *s;

	(void) ho_spin(&ho_first);
	pthread_mutex_lock(&ho_lock);
	if (prev != NULL)
		ho_free_slot(prev);
	while ((s = ho_first) == NULL) {
		ho_reader_asleep = true;
		pthread_cond_wait(&ho_readable, &ho_lock);
	}
	__atomic_store_n(&ho_first, s->hs_next, __ATOMIC_RELAXED);
	if (ho_first == NULL)
		ho_last = NULL;
	pthread_mutex_unlock(&ho_lock);
	return (s);
}

/* Give back the reader's last slot, so that the path ends empty. */
static void
ho_give_back(struct ho_slot *prev)
{
	if (prev == NULL)
		return;
	pthread_mutex_lock(&ho_lock);
	ho_free_slot(prev);
	pthread_mutex_unlock(&ho_lock);
}

static int
ho_write(size_t size, long n, struct flow_run *fr)
{
	unsigned char *buf = flow_buffer();

	for (long i = 0; i < n; i++)
		ho_write_one(buf, size, fr->fr_seq + (uint64_t)i);
	return (0);
}

/*
 * A reader whose check fails goes on taking the round's messages,
 * unchecked, so that the writer is not left waiting for slots.
 */
static int
ho_read(size_t size, long n, struct flow_run *fr)
{
	unsigned char *buf = flow_buffer();
	struct ho_slot *s = NULL;
	int rc = 0;

	for (long i = 0; i < n; i++) {
		s = ho_take(s);
		if (rc != 0)
			continue;
		/* hs_len: at most FLOW_SIZE_MAX, as every flow's size is. */
		memcpy(buf, s->hs_data, s->hs_len);
		if (!flow_check(buf, (ssize_t)s->hs_len, size,
		    fr->fr_seq + (uint64_t)i, fr))
			rc = -1;
	}
	ho_give_back(s);
	return (rc);
}

const struct bench_flow bench_flow_handoff = {
	.bf_name = "handoff",
	.bf_open = ho_open,
	.bf_close = ho_close,
	.bf_echo = NULL,
	.bf_write = ho_write,
	.bf_read = ho_read,
};
