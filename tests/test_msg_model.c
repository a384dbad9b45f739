/*
 * A model-based test of the message utilities (streams/msg.c, dupb and
 * copyb): long random sequences of operations on a handful of messages,
 * each result checked against a plain model of what a message holds.
 *
 * test_msg.c pins down each utility's documented cases one at a time; this
 * test looks for what those cases did not think of -- chains of mixed
 * types, empty blocks, headroom, blocks shared through dupb and dupmsg,
 * pullups of pulled-up messages -- and, run under AddressSanitizer, for any
 * stray read or write on the way.
 *
 * The model of a message is its "typed bytes": every data byte in order,
 * each with the type of the block holding it.  An operation that succeeds
 * must change the typed bytes exactly as the utility's contract says; one
 * that fails must leave the message's blocks exactly as they were (the
 * all-or-nothing rule).  Block structure is checked where the contract
 * speaks of it (pullupmsg's first block, msgpullup's, dupmsg's sharing,
 * copymsg's offsets).
 *
 * The "squeeze" case runs in a small budget kept, step by step, at a
 * random level near and above the BPRI_MED threshold by ballast blocks
 * allocated at BPRI_HI, so that the copies the utilities make at BPRI_MED
 * fail at random points.
 *
 * Everything is deterministic: a small generator of our own with fixed
 * seeds, and the sim executive.  A failure names its seed and step.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/ustreams.h>
#include <sys/ustreams_stat.h>

#include <stdint.h>
#include <string.h>

#define	NMSG		6	/* messages alive at once, at most */
#define	MAXBLK		16	/* blocks in a message we build */
#define	MAXBYTES	8192	/* typed bytes in a message, at most */
#define	MAXBALLAST	4096

/* xorshift64*: deterministic on every platform. */
/* The typed bytes of a message. */
struct typed {
	int		t_n;
	unsigned char	t_type[MAXBYTES];
	unsigned char	t_byte[MAXBYTES];
};

/* A message's blocks as they are: for the all-or-nothing check. */
struct shape {
	int		s_n;
	mblk_t		*s_blk[4 * MAXBLK];
	unsigned char	*s_rptr[4 * MAXBLK];
	unsigned char	*s_wptr[4 * MAXBLK];
	dblk_t		*s_datap[4 * MAXBLK];
};

#define	REQUIRE_AT(cond, what) REQUIRE((cond), "seed %u step %u: %s", \
	seed_now, step_now, (what))

static mblk_t *msgs[NMSG];
static mblk_t *ballast[MAXBALLAST];
static int nballast;
static unsigned seed_now, step_now;

static void
flatten(mblk_t *mp, struct typed *t)
{
	t->t_n = 0;
	for (; mp != NULL; mp = mp->b_cont) {
		for (unsigned char *p = mp->b_rptr; p < mp->b_wptr; p++) {
			REQUIRE(t->t_n < MAXBYTES, "seed %u step %u: "
			    "message longer than the model holds", seed_now,
			    step_now);
			t->t_type[t->t_n] = DB_TYPE(mp);
			t->t_byte[t->t_n++] = *p;
		}
	}
}

static void
assert_typed_eq(const struct typed *a, const struct typed *b,
    const char *what)
{
	REQUIRE(a->t_n == b->t_n, "seed %u step %u: %s: %d bytes, "
	    "expected %d", seed_now, step_now, what, a->t_n, b->t_n);
	for (int i = 0; i < a->t_n; i++) {
		REQUIRE(a->t_type[i] == b->t_type[i] &&
		    a->t_byte[i] == b->t_byte[i], "seed %u step %u: %s: byte "
		    "%d is 0x%02x of type 0x%02x, expected 0x%02x of type "
		    "0x%02x", seed_now, step_now, what, i, a->t_byte[i],
		    a->t_type[i], b->t_byte[i], b->t_type[i]);
	}
}

static void
shape_of(mblk_t *mp, struct shape *s)
{
	s->s_n = 0;
	for (; mp != NULL; mp = mp->b_cont) {
		REQUIRE_AT(s->s_n < 4 * MAXBLK, "too many blocks");
		s->s_blk[s->s_n] = mp;
		s->s_rptr[s->s_n] = mp->b_rptr;
		s->s_wptr[s->s_n] = mp->b_wptr;
		s->s_datap[s->s_n++] = mp->b_datap;
	}
}

static void
assert_shape_eq(mblk_t *mp, const struct shape *s, const char *what)
{
	struct shape now;

	shape_of(mp, &now);
	REQUIRE(now.s_n == s->s_n, "seed %u step %u: %s changed the "
	    "number of blocks from %d to %d", seed_now, step_now, what,
	    s->s_n, now.s_n);
	for (int i = 0; i < s->s_n; i++) {
		REQUIRE(now.s_blk[i] == s->s_blk[i] &&
		    now.s_rptr[i] == s->s_rptr[i] &&
		    now.s_wptr[i] == s->s_wptr[i] &&
		    now.s_datap[i] == s->s_datap[i], "seed %u step %u: %s "
		    "failed but changed block %d", seed_now, step_now, what, i);
	}
}

/* Bytes in the leading sequence: the first block and those of its type. */
static int
lead_bytes(mblk_t *mp)
{
	unsigned char type = DB_TYPE(mp);
	int n = 0;

	for (; mp != NULL && DB_TYPE(mp) == type; mp = mp->b_cont)
		n += (int)MBLKL(mp);
	return (n);
}

static int
nblocks(mblk_t *mp)
{
	int n = 0;

	for (; mp != NULL; mp = mp->b_cont)
		n++;
	return (n);
}

static mblk_t *
nth_block(mblk_t *mp, int k)
{
	while (k-- > 0)
		mp = mp->b_cont;
	return (mp);
}

static int
msg_slot_free(void)
{
	for (int i = 0; i < NMSG; i++) {
		if (msgs[i] == NULL)
			return (i);
	}
	return (-1);
}

static int
msg_slot_used(void)
{
	int k = (int)harness_rnd(NMSG);

	for (int i = 0; i < NMSG; i++) {
		if (msgs[(k + i) % NMSG] != NULL)
			return ((k + i) % NMSG);
	}
	return (-1);
}

static unsigned char
random_type(void)
{
	uint32_t r = harness_rnd(20);

	return (r < 15 ? M_DATA : r < 18 ? M_PROTO : M_CTL);
}

/*
 * A new block: a size from a few classes (mostly small, sometimes past
 * the 2 KB class), some headroom, random bytes; or a dupb of a block of
 * another message.  NULL when memory is short.
 */
static mblk_t *
random_block(void)
{
	static const int sizes[] = { 0, 1, 7, 8, 63, 64, 65, 200, 1151, 3000 };
	int size, head, len, other;
	mblk_t *bp;

	if (harness_rnd(6) == 0 && (other = msg_slot_used()) >= 0) {
		bp = nth_block(msgs[other], (int)harness_rnd((uint32_t)
		    nblocks(msgs[other])));
		return (dupb(bp));
	}
	size = sizes[harness_rnd(sizeof (sizes) / sizeof (sizes[0]))];
	if ((bp = allocb(size, BPRI_MED)) == NULL)
		return (NULL);
	DB_TYPE(bp) = random_type();
	head = size > 0 ?
	    (int)harness_rnd((uint32_t)(size < 16 ? size : 16) + 1) : 0;
	len = (int)harness_rnd((uint32_t)(size - head) + 1);
	bp->b_rptr += head;
	bp->b_wptr = bp->b_rptr;
	for (int i = 0; i < len; i++)
		*bp->b_wptr++ = (unsigned char)harness_rnd(256);
	return (bp);
}

static void
op_new(void)
{
	int slot = msg_slot_free(), bytes = 0;
	int n = 1 + (int)harness_rnd(MAXBLK / 2);
	mblk_t *head = NULL, *bp;

	if (slot < 0)
		return;
	for (int i = 0; i < n; i++) {
		if ((bp = random_block()) == NULL)
			break;
		if ((bytes += (int)MBLKL(bp)) > MAXBYTES / 2) {
			freeb(bp);
			break;
		}
		if (head == NULL)
			head = bp;
		else
			linkb(head, bp);
	}
	msgs[slot] = head;
}

static void
op_dupmsg(int m)
{
	int slot = msg_slot_free();
	struct typed before, after;
	mblk_t *dup, *a, *b;

	if (slot < 0)
		return;
	flatten(msgs[m], &before);
	if ((dup = dupmsg(msgs[m])) == NULL)
		return;
	flatten(dup, &after);
	assert_typed_eq(&after, &before, "dupmsg");
	for (a = msgs[m], b = dup; a != NULL; a = a->b_cont, b = b->b_cont) {
		REQUIRE(b != NULL && b != a && b->b_datap == a->b_datap &&
		    b->b_rptr == a->b_rptr && b->b_wptr == a->b_wptr,
		    "seed %u step %u: dupmsg: a block does not share its "
		    "original's data", seed_now, step_now);
	}
	REQUIRE_AT(b == NULL, "more blocks than the original");
	msgs[slot] = dup;
}

static void
op_copymsg(int m)
{
	int slot = msg_slot_free();
	struct typed before, after;
	mblk_t *cp, *a, *b;

	if (slot < 0)
		return;
	flatten(msgs[m], &before);
	if ((cp = copymsg(msgs[m])) == NULL)
		return;
	flatten(cp, &after);
	assert_typed_eq(&after, &before, "copymsg");
	for (a = msgs[m], b = cp; a != NULL; a = a->b_cont, b = b->b_cont) {
		REQUIRE(b != NULL && DB_REF(b) == 1 &&
		    b->b_datap != a->b_datap && MBLKHEAD(b) == MBLKHEAD(a),
		    "seed %u step %u: copymsg: a copy shares data or moved "
		    "it in its buffer", seed_now, step_now);
	}
	REQUIRE_AT(b == NULL, "more blocks than the original");
	msgs[slot] = cp;
}

static void
op_pullupmsg(int m)
{
	mblk_t *mp = msgs[m];
	int lead = lead_bytes(mp), len, want, rv;
	struct typed before, after;
	struct shape shape;

	len = harness_rnd(4) == 0 ? -1 : (int)harness_rnd((uint32_t)lead + 3);
	want = len == -1 ? lead : len;
	flatten(mp, &before);
	shape_of(mp, &shape);
	rv = pullupmsg(mp, len);
	if (len > lead)
		REQUIRE(rv == 0, "seed %u step %u: pullupmsg(%d) of a "
		    "leading sequence of %d bytes returned %d", seed_now,
		    step_now, len, lead, rv);
	if (rv == 0) {
		assert_shape_eq(mp, &shape, "pullupmsg");
		return;
	}
	REQUIRE_AT(rv == 1, "returned neither 0 nor 1");
	flatten(mp, &after);
	assert_typed_eq(&after, &before, "pullupmsg");
	REQUIRE(MBLKL(mp) >= want &&
	    ((uintptr_t)mp->b_rptr & (sizeof (long) - 1)) == 0,
	    "seed %u step %u: pullupmsg(%d): first block holds %d bytes at "
	    "%p", seed_now, step_now, len, (int)MBLKL(mp),
	    (void *)mp->b_rptr);
}

static void
op_msgpullup(int m)
{
	int slot = msg_slot_free(), lead = lead_bytes(msgs[m]), len, want;
	struct typed before, after, orig;
	struct shape shape;
	mblk_t *np, *b;

	if (slot < 0)
		return;
	len = harness_rnd(4) == 0 ? -1 : (int)harness_rnd((uint32_t)lead + 3);
	want = len == -1 ? lead : len;
	flatten(msgs[m], &before);
	shape_of(msgs[m], &shape);
	np = msgpullup(msgs[m], len);
	assert_shape_eq(msgs[m], &shape, "msgpullup");
	flatten(msgs[m], &orig);
	assert_typed_eq(&orig, &before, "msgpullup's original");
	if (len > lead)
		REQUIRE_AT(np == NULL, "msgpullup past the leading sequence");
	if (np == NULL)
		return;
	flatten(np, &after);
	assert_typed_eq(&after, &before, "msgpullup");
	REQUIRE(MBLKL(np) == want && DB_TYPE(np) == DB_TYPE(msgs[m]),
	    "seed %u step %u: msgpullup(%d): first block holds %d bytes",
	    seed_now, step_now, len, (int)MBLKL(np));
	for (b = np; b != NULL; b = b->b_cont)
		REQUIRE_AT(DB_REF(b) == 1, "msgpullup shares a block");
	msgs[slot] = np;
}

static void
op_adjmsg(int m)
{
	mblk_t *mp = msgs[m];
	int lead = lead_bytes(mp), len, todo, rv;
	struct typed before, after, want;
	struct shape shape;

	len = (int)harness_rnd(2 * (uint32_t)lead + 5) - (lead + 2);
	todo = len < 0 ? -len : len;
	flatten(mp, &before);
	shape_of(mp, &shape);
	rv = adjmsg(mp, len);
	if (todo > lead) {
		REQUIRE(rv == 0, "seed %u step %u: adjmsg(%d) of a "
		    "leading sequence of %d bytes returned %d", seed_now,
		    step_now, len, lead, rv);
		assert_shape_eq(mp, &shape, "adjmsg");
		return;
	}
	REQUIRE_AT(rv == 1, "returned neither 0 nor 1");
	/* The model: the bytes trimmed from the head or the sequence's end. */
	want.t_n = 0;
	for (int i = 0; i < before.t_n; i++) {
		if (len >= 0 ? i < todo : i >= lead - todo && i < lead)
			continue;
		want.t_type[want.t_n] = before.t_type[i];
		want.t_byte[want.t_n++] = before.t_byte[i];
	}
	flatten(mp, &after);
	assert_typed_eq(&after, &want, "adjmsg");
	REQUIRE_AT(mp == shape.s_blk[0], "adjmsg moved the first block");
}

static void
op_link(int m)
{
	int other = msg_slot_used();
	struct typed a, b, after;

	if (other < 0 || other == m || nblocks(msgs[m]) +
	    nblocks(msgs[other]) > MAXBLK)
		return;
	flatten(msgs[m], &a);
	flatten(msgs[other], &b);
	if (a.t_n + b.t_n > MAXBYTES)
		return;
	linkb(msgs[m], msgs[other]);
	msgs[other] = NULL;
	flatten(msgs[m], &after);
	memcpy(a.t_type + a.t_n, b.t_type, (size_t)b.t_n);
	memcpy(a.t_byte + a.t_n, b.t_byte, (size_t)b.t_n);
	a.t_n += b.t_n;
	assert_typed_eq(&after, &a, "linkb");
}

static void
op_rmvb(int m)
{
	int n = nblocks(msgs[m]), k = (int)harness_rnd((uint32_t)n), other;
	mblk_t *bp = nth_block(msgs[m], k), *second = msgs[m]->b_cont, *rest;
	struct typed before, after, blk, want;

	/* A block of another message is not in this one. */
	if ((other = msg_slot_used()) >= 0 && other != m)
		REQUIRE_AT(rmvb(msgs[m], msgs[other]) == (mblk_t *)-1,
		    "rmvb of a block of another message");
	flatten(msgs[m], &before);
	{
		mblk_t *next = bp->b_cont;

		bp->b_cont = NULL;
		flatten(bp, &blk);
		bp->b_cont = next;
	}
	rest = rmvb(msgs[m], bp);
	REQUIRE_AT(bp->b_cont == NULL, "rmvb left the block linked");
	REQUIRE_AT(rest == (k == 0 ? second : msgs[m]), "rmvb's new head");
	flatten(rest, &after);
	/* Removing block k removes its bytes, which start at offset off. */
	{
		int off = 0;
		mblk_t *b = msgs[m];

		for (int i = 0; i < k; i++, b = b->b_cont)
			off += (int)MBLKL(b);
		want.t_n = 0;
		for (int i = 0; i < before.t_n; i++) {
			if (i >= off && i < off + blk.t_n)
				continue;
			want.t_type[want.t_n] = before.t_type[i];
			want.t_byte[want.t_n++] = before.t_byte[i];
		}
	}
	assert_typed_eq(&after, &want, "rmvb");
	freeb(bp);
	msgs[m] = rest;
}

static void
op_unlinkb(int m)
{
	int slot = msg_slot_free();
	struct typed before, head, rest, both;
	mblk_t *r;

	if (slot < 0)
		return;
	flatten(msgs[m], &before);
	r = unlinkb(msgs[m]);
	REQUIRE_AT(msgs[m]->b_cont == NULL, "unlinkb left the block linked");
	flatten(msgs[m], &head);
	flatten(r, &rest);
	both = head;
	memcpy(both.t_type + both.t_n, rest.t_type, (size_t)rest.t_n);
	memcpy(both.t_byte + both.t_n, rest.t_byte, (size_t)rest.t_n);
	both.t_n += rest.t_n;
	assert_typed_eq(&both, &before, "unlinkb");
	msgs[slot] = r;
}

static void
op_sizes(int m)
{
	struct typed t;
	int data = 0;

	flatten(msgs[m], &t);
	for (int i = 0; i < t.t_n; i++)
		data += t.t_type[i] == M_DATA;
	REQUIRE(msgdsize(msgs[m]) == data, "seed %u step %u: msgdsize %d, "
	    "expected %d", seed_now, step_now, msgdsize(msgs[m]), data);
	REQUIRE(msgsize(msgs[m]) == (size_t)t.t_n, "seed %u step %u: msgsize "
	    "%zu, expected %d", seed_now, step_now, msgsize(msgs[m]), t.t_n);
}

static void
op_copyb(int m)
{
	mblk_t *bp = nth_block(msgs[m], (int)harness_rnd((uint32_t)
	    nblocks(msgs[m]))), *cp;

	if ((cp = copyb(bp)) == NULL)
		return;
	REQUIRE(DB_TYPE(cp) == DB_TYPE(bp) && MBLKL(cp) == MBLKL(bp) &&
	    MBLKHEAD(cp) == MBLKHEAD(bp) && MBLKSIZE(cp) >= MBLKSIZE(bp) &&
	    memcmp(cp->b_rptr, bp->b_rptr, (size_t)MBLKL(bp)) == 0,
	    "seed %u step %u: copyb differs from its original", seed_now,
	    step_now);
	freeb(cp);
}

/*
 * The squeeze: ballast at BPRI_HI brings memory in use to a random level
 * between 5% under the BPRI_MED threshold and the whole budget -- in one
 * step of four, to within 600 bytes of the budget, where even dupb's
 * 64-byte header (admitted like BPRI_HI) is refused now and then.  The
 * ballast is 1024-byte blocks (1280 bytes each), then empty ones (192),
 * then dupb headers of the first (64).
 */
static void
squeeze(size_t budget)
{
	struct ustreams_strstat ss;
	size_t med = budget / 100 * 90, target, room;
	mblk_t *bp;

	if (harness_rnd(4) == 0)
		target = budget - harness_rnd(600);
	else
		target = med - budget / 20 +
		    harness_rnd((uint32_t)(budget / 20 + budget / 10));
	REQUIRE_AT(ustreams_strstat(&ss) == 0, "ustreams_strstat");
	while (ss.ss_mem.ms_inuse > target && nballast > 0) {
		freeb(ballast[--nballast]);
		REQUIRE_AT(ustreams_strstat(&ss) == 0, "ustreams_strstat");
	}
	while (ss.ss_mem.ms_inuse < target && nballast < MAXBALLAST) {
		room = target - ss.ss_mem.ms_inuse;
		if (room >= 1280)
			bp = allocb(1024, BPRI_HI);
		else if (room >= 192)
			bp = allocb(0, BPRI_HI);
		else if (room >= 64 && nballast > 0)
			bp = dupb(ballast[0]);
		else
			break;
		if (bp == NULL)
			break;
		ballast[nballast++] = bp;
		REQUIRE_AT(ustreams_strstat(&ss) == 0, "ustreams_strstat");
	}
}

static void
run(unsigned seed, unsigned steps, size_t budget, bool squeezed)
{
	harness_boot(budget, USTREAMS_EXEC_SIM);
	harness_rnd_seed(seed);
	seed_now = seed;
	memset(msgs, 0, sizeof (msgs));
	nballast = 0;
	for (step_now = 0; step_now < steps; step_now++) {
		int m;

		if (squeezed)
			squeeze(budget);
		if ((m = msg_slot_used()) < 0 || harness_rnd(8) == 0) {
			op_new();
			continue;
		}
		switch (harness_rnd(12)) {
		case 0: op_dupmsg(m); break;
		case 1: op_copymsg(m); break;
		case 2: op_pullupmsg(m); break;
		case 3: op_msgpullup(m); break;
		case 4: op_adjmsg(m); break;
		case 5: op_link(m); break;
		case 6: op_rmvb(m); break;
		case 7: op_unlinkb(m); break;
		case 8: op_sizes(m); break;
		case 9: op_copyb(m); break;
		default:
			if (nblocks(msgs[m]) > MAXBLK || harness_rnd(3) == 0) {
				freemsg(msgs[m]);
				msgs[m] = NULL;
			} else {
				op_pullupmsg(m);
			}
			break;
		}
	}
	for (int i = 0; i < NMSG; i++)
		freemsg(msgs[i]);
	while (nballast > 0)
		freeb(ballast[--nballast]);
	harness_assert_no_block_in_use("seed %u, at the end", seed);
	harness_shutdown();
}

/*
 * Seeds per test.  ThreadSanitizer slows this single-threaded test forty
 * times and has nothing to look for in it, and valgrind's memcheck slows
 * it about as much: both run a tenth of the seeds.
 */
static unsigned
nseeds(unsigned n)
{
	return (strcmp(harness_variant(), "tsan") == 0 ||
	    strcmp(harness_variant(), "memcheck") == 0 ? n / 10 : n);
}

START_TEST(test_random_operations_keep_every_message_as_the_model_says)
{
	for (unsigned seed = 0; seed < nseeds(40); seed++)
		run(seed, 2000, USTREAMS_MEM_DEFAULT, false);
}
END_TEST

START_TEST(test_random_operations_in_a_squeeze_are_all_or_nothing)
{
	for (unsigned seed = 100; seed < 100 + nseeds(30); seed++)
		run(seed, 1500, 1024 * 1024, true);
}
END_TEST

static Suite *
msg_model_suite(void)
{
	Suite *s = suite_create("msg_model");
	TCase *tc = harness_tcase("model", 300);

	tcase_add_test(tc,
	    test_random_operations_keep_every_message_as_the_model_says);
	tcase_add_test(tc,
	    test_random_operations_in_a_squeeze_are_all_or_nothing);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(msg_model_suite()));
}
