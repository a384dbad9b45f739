/*
 * A model-based test of the stream head's read side, as an application
 * sees it: long random sequences of writes and putpmsgs turned round by
 * echo(7), read back with read, getpmsg and getmsg in every read mode
 * and buffer size, flushed with I_FLUSH and I_FLUSHBAND, with passthru(7)
 * and tsm_chop (below: it cuts each message going up into many blocks,
 * empty ones among them) pushed and popped in between; each call's result
 * checked against a plain model of the read queue.
 *
 * test_sthead.c pins each rule down with a message or two; this test
 * mixes them: high-priority messages (one at a time at the head, a second
 * discarded), bands 0 to 3, messages with and without a control part,
 * zero-length parts, reads that take a message in part and leave the rest
 * in its place (a high-priority one's rest without its control part is an
 * ordinary message of band 0, as POSIX says for getmsg), RNORM reads that
 * run across messages, RPROTDAT, RPROTDIS, RPROTNORM's EBADMSG; and,
 * through errmod(7) at the bottom of the stream, read and write errors
 * (persistent or not, set and cleared by M_ERROR) and hang-ups (undone by
 * M_UNHANGUP), which every call must report as the model says.  After
 * every operation it compares I_NREAD (messages, and the data bytes of
 * the first), the poll events (the first message's, POLLERR, POLLHUP),
 * and whether ustreams_pollfd's descriptor is readable, which it must be
 * exactly while poll has an event.
 *
 * The model of one message is its class (high priority or a band), its
 * control part (absent, or its type and bytes) and its data part (absent,
 * or its bytes); every byte written is distinct from its neighbours, so a
 * byte out of place is seen.  A read or getpmsg takes bytes from the
 * front of the first message that qualifies; what is left of it goes back
 * where putbq puts it -- unless no byte is left: a rest of no bytes is no
 * rest, for read as for getpmsg.  The stream is opened O_NONBLOCK, so that
 * a read that finds nothing says EAGAIN.  The sim executive runs every
 * event after each write, so that echo's service procedure has turned the
 * message round before the next call; the total stays under the head's
 * high-water mark, so that flow control never holds one back.
 * Deterministic seeds; a failure names seed, step, and the operations
 * before it.
 */
#include "harness.h"

#include <sys/stream.h>
#include <sys/strsun.h>
#include <sys/stropts.h>
#include <sys/ustreams.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#define	MAXMSG		48	/* messages in the model, at most */
#define	MAXCTL		40	/* control part bytes, at most */
#define	MAXDATA		200	/* data part bytes, at most */
#define	MAXBYTES	4000	/* the total: under the head's 5120 */
#define	NBAND		3	/* bands 1..NBAND are used */
#define	MAXPUSH		3	/* modules pushed, at most */


/* One message.  ctype: 0 for none (an M_DATA message), else its type. */
struct mmsg {
	int		m_ctype;	/* M_PROTO, M_PCPROTO, or 0 */
	unsigned char	m_band;
	bool		m_hasdata;	/* a data part, maybe of no bytes */
	int		m_clen, m_dlen;
	unsigned char	m_ctl[MAXCTL];
	unsigned char	m_data[MAXDATA];
};

static struct mmsg model[MAXMSG];	/* in queue order */
static int nmodel;
static int sd;
static int rdopt;			/* mode | protocol option */
static const char *pushed[MAXPUSH];	/* above errmod, bottom first */
static int npushed;
static int rerr, werr;			/* the head's errors; 0: none */
static bool hup;			/* hung up */
static int erropt;			/* RERRNONPERSIST | WERRNONPERSIST */
static int efd;				/* ustreams_pollfd's */

static bool
m_hipri(const struct mmsg *m)
{
	return (m->m_ctype == M_PCPROTO);
}

static int
m_bytes(const struct mmsg *m)
{
	return (m->m_clen + (m->m_hasdata ? m->m_dlen : 0));
}

static int
model_bytes(void)
{
	int n = 0;

	for (int i = 0; i < nmodel; i++)
		n += m_bytes(&model[i]);
	return (n);
}

static void
model_insert(int at, const struct mmsg *m)
{
	memmove(&model[at + 1], &model[at],
	    (size_t)(nmodel - at) * sizeof (model[0]));
	model[at] = *m;
	nmodel++;
}

static void
model_remove(int at)
{
	nmodel--;
	memmove(&model[at], &model[at + 1],
	    (size_t)(nmodel - at) * sizeof (model[0]));
}

/*
 * Where putq puts m: a high-priority message after those already there,
 * a banded one after every message of its band or above, band 0 last.
 */
static int
pos_putq(const struct mmsg *m)
{
	int i = 0;

	while (i < nmodel && m_hipri(&model[i]))
		i++;
	if (m_hipri(m))
		return (i);
	while (i < nmodel && model[i].m_band >= m->m_band)
		i++;
	return (i);
}

/* Where putbq puts m: at the front of its class. */
static int
pos_putbq(const struct mmsg *m)
{
	int i = 0;

	if (m_hipri(m))
		return (0);
	while (i < nmodel && (m_hipri(&model[i]) ||
	    model[i].m_band > m->m_band))
		i++;
	return (i);
}

/* Arrival at the head: a second high-priority message is discarded. */
static void
model_arrive(const struct mmsg *m)
{
	if (m_hipri(m) && nmodel > 0 && m_hipri(&model[0]))
		return;
	model_insert(pos_putq(m), m);
}

/*
 * A message's rest goes back: nothing if no byte is left; without its
 * control part once that is all taken, which makes a high-priority
 * message's rest an ordinary one of band 0.
 */
static void
model_putback(struct mmsg *m)
{
	if (m_bytes(m) == 0)
		return;
	if (m->m_ctype != 0 && m->m_clen == 0)
		m->m_ctype = 0;
	model_insert(pos_putbq(m), m);
}

static void
settle(void)
{
	TRAIL_REQUIRE(ustreams_sim_run_idle() >= 0, "sim_run_idle failed");
}

/*
 * "tsm_chop", a module that cuts every block of a data message going up
 * into pieces of random sizes, empty ones among them, each of its block's
 * type: so that parts of many blocks, and empty blocks at either end of a
 * part, reach the head.  Down, it passes everything on.
 */
static int
chop_open(queue_t *q, dev_t *devp, int oflag, int sflag, cred_t *crp)
{
	return (0);
}

/* Append the pieces of b at *tailp; false if a block could not be had. */
static bool
chop_block(mblk_t *b, mblk_t ***tailp)
{
	ssize_t len = MBLKL(b), off = 0;
	bool first = true;

	while (first || off < len || harness_rnd(4) == 0) {
		ssize_t k = len - off;
		mblk_t *nb;

		if (harness_rnd(4) == 0)
			k = 0;
		else if (k > 1)
			k = 1 + (ssize_t)harness_rnd((uint32_t)k);
		if ((nb = allocb((int)k, BPRI_HI)) == NULL)
			return (false);
		DB_TYPE(nb) = DB_TYPE(b);
		memcpy(nb->b_wptr, b->b_rptr + off, (size_t)k);
		nb->b_wptr += k;
		off += k;
		**tailp = nb;
		*tailp = &nb->b_cont;
		first = false;
	}
	return (true);
}

static int
chop_rput(queue_t *q, mblk_t *mp)
{
	mblk_t *head = NULL, **tail = &head;

	if (DB_TYPE(mp) == M_DATA || DB_TYPE(mp) == M_PROTO ||
	    DB_TYPE(mp) == M_PCPROTO) {
		for (mblk_t *b = mp; b != NULL; b = b->b_cont) {
			if (!chop_block(b, &tail)) {
				freemsg(head);
				putnext(q, mp);		/* whole, then */
				return (0);
			}
		}
		head->b_band = mp->b_band;
		freemsg(mp);
		mp = head;
	}
	putnext(q, mp);
	return (0);
}

static int
chop_wput(queue_t *q, mblk_t *mp)
{
	putnext(q, mp);
	return (0);
}

static struct module_info chop_minfo = {
	0x7301, "tsm_chop", 0, INFPSZ, 8192, 2048
};
static struct qinit chop_rinit = {
	chop_rput, NULL, chop_open, NULL, NULL, &chop_minfo, NULL
};
static struct qinit chop_winit = {
	chop_wput, NULL, NULL, NULL, NULL, &chop_minfo, NULL
};
static struct streamtab chop_info = { &chop_rinit, &chop_winit, NULL, NULL };

/* An error as a call reports it: the non-persistent kind once. */
static int
take_err(bool rd)
{
	int *errp = rd ? &rerr : &werr;
	int e = *errp;

	if (erropt & (rd ? RERRNONPERSIST : WERRNONPERSIST))
		*errp = 0;
	return (e);
}

/* What a write or putpmsg meets first: the write error, a hang-up. */
static int
write_err(void)
{
	int e = take_err(false);

	return (e != 0 ? e : hup ? ENXIO : 0);
}

/* ---- writes ---- */

static void
op_write(void)
{
	struct mmsg m = { .m_hasdata = true };
	ssize_t n;
	int error;

	harness_trail_op("write");
	m.m_dlen = (int)harness_rnd(MAXDATA + 1);
	if (harness_rnd(8) == 0)
		m.m_dlen = 0;
	harness_fill(m.m_data, (size_t)m.m_dlen);
	errno = 0;
	n = ustreams_write(sd, m.m_data, (size_t)m.m_dlen);
	if ((error = write_err()) != 0) {
		TRAIL_REQUIRE(n == -1 && errno == error,
		    "write should fail with the model's errno");
		return;
	}
	TRAIL_REQUIRE(n == m.m_dlen, "write returned the wrong count");
	settle();
	/* A zero-length write sends a message only with SNDZERO (on). */
	model_arrive(&m);
}

static void
op_putpmsg(void)
{
	struct mmsg m = { 0 };
	struct strbuf ctl, data;
	bool hipri = harness_rnd(6) == 0;
	int band = hipri ? 0 : (int)harness_rnd(NBAND + 1);
	int clen = (int)harness_rnd(MAXCTL + 2) - 1;	/* -1: none */
	int dlen = (int)harness_rnd(MAXDATA + 2) - 1;
	int r, error;

	harness_trail_op("putpmsg");
	if (hipri && clen < 0)
		clen = (int)harness_rnd(MAXCTL + 1);
	if (clen < 0 && dlen < 0)
		dlen = 0;
	m.m_band = (unsigned char)band;
	if (clen >= 0) {
		m.m_ctype = hipri ? M_PCPROTO : M_PROTO;
		m.m_clen = clen;
		harness_fill(m.m_ctl, (size_t)clen);
	}
	if (dlen >= 0) {
		m.m_hasdata = true;
		m.m_dlen = dlen;
		harness_fill(m.m_data, (size_t)dlen);
	}
	ctl = (struct strbuf){ .maxlen = 0, .len = clen,
	    .buf = (char *)m.m_ctl };
	data = (struct strbuf){ .maxlen = 0, .len = dlen,
	    .buf = (char *)m.m_data };
	errno = 0;
	r = ustreams_putpmsg(sd, &ctl, &data, band,
	    hipri ? MSG_HIPRI : MSG_BAND);
	if ((error = write_err()) != 0) {
		TRAIL_REQUIRE(r == -1 && errno == error,
		    "putpmsg should fail with the model's errno");
		return;
	}
	TRAIL_REQUIRE(r == 0, "putpmsg failed");
	settle();
	model_arrive(&m);
}

/* ---- reads ---- */

/* Take up to want bytes from the front of a part of *lenp bytes. */
static int
take_part(unsigned char *part, int *lenp, unsigned char *out, int want)
{
	int k = *lenp < want ? *lenp : want;

	if (k <= 0)
		return (0);
	memcpy(out, part, (size_t)k);
	memmove(part, part + k, (size_t)(*lenp - k));
	*lenp -= k;
	return (k);
}

/* Take up to want bytes from the front of m (control part first). */
static int
take(struct mmsg *m, unsigned char *out, int want)
{
	int n = take_part(m->m_ctl, &m->m_clen, out, want);

	if (m->m_hasdata)
		n += take_part(m->m_data, &m->m_dlen, out + n, want - n);
	return (n);
}

/* What read(nbytes) gives in the model: bytes, or -1 with *errp. */
static int
model_read(unsigned char *out, int nbytes, int *errp)
{
	int mode = rdopt & RMODEMASK, done = 0;

	if ((*errp = take_err(true)) != 0)
		return (-1);
	for (;;) {
		struct mmsg m;

		if (nmodel == 0) {
			/* Only the first message is waited for. */
			if (done == 0 && !hup)
				*errp = EAGAIN;
			break;
		}
		m = model[0];
		model_remove(0);
		if (m.m_ctype != 0) {
			if (rdopt & RPROTDIS) {
				if (!m.m_hasdata)
					continue;	/* all discarded */
				m.m_ctype = 0;
				m.m_clen = 0;
			} else if (!(rdopt & RPROTDAT)) {
				model_insert(pos_putbq(&m), &m);
				if (done == 0)
					*errp = EBADMSG;
				break;
			}
		}
		if (m_bytes(&m) == 0) {
			/* Ends the read; consumed only as the first. */
			if (done > 0)
				model_insert(pos_putbq(&m), &m);
			break;
		}
		done += take(&m, out + done, nbytes - done);
		if (m_bytes(&m) > 0) {
			if (mode != RMSGD)
				model_putback(&m);
			break;
		}
		if (mode != RNORM || done == nbytes)
			break;
	}
	return (*errp != 0 ? -1 : done);
}

static void
op_read(void)
{
	unsigned char got[MAXMSG * (MAXCTL + MAXDATA)];
	unsigned char want[sizeof (got)];
	int nbytes = (int)harness_rnd(2 * (MAXCTL + MAXDATA)) + 1;
	int error, n;
	ssize_t r;

	harness_trail_op("read");
	if (harness_rnd(4) == 0)
		nbytes = nmodel > 0 ? m_bytes(&model[0]) : 1;	/* exact */
	if (nbytes == 0)
		nbytes = 1;
	n = model_read(want, nbytes, &error);
	errno = 0;
	r = ustreams_read(sd, got, (size_t)nbytes);
	if (n < 0) {
		TRAIL_REQUIRE(r == -1 && errno == error,
		    "read should fail with the model's errno");
		return;
	}
	TRAIL_REQUIRE(r == n, "read returned the wrong count");
	TRAIL_REQUIRE(memcmp(got, want, (size_t)n) == 0,
	    "read returned the wrong bytes");
}

/*
 * One part into a strbuf as getpmsg does: not asked for (maxlen < 0), or
 * absent, gives len -1 and leaves the part; else what fits is taken.
 * Returns whether some of the part is left.
 */
static bool
model_part(unsigned char *bytes, int *lenp, bool present, int maxlen,
    unsigned char *out, int *outlen)
{
	if (maxlen < 0 || !present) {
		*outlen = -1;
		return (present);
	}
	*outlen = take_part(bytes, lenp, out, maxlen);
	return (*lenp > 0);
}

static void
op_getpmsg(bool old)
{
	unsigned char cbuf[MAXCTL], dbuf[MAXDATA], wc[MAXCTL], wd[MAXDATA];
	struct strbuf ctl = { .buf = (char *)cbuf, .len = -7 };
	struct strbuf data = { .buf = (char *)dbuf, .len = -7 };
	int kind = (int)harness_rnd(old ? 2 : 3);
	int band = (int)harness_rnd(NBAND + 1), flags, rband = band, r;
	int wclen, wdlen, more = 0, want_flags, want_band, error;
	bool ctl_null = harness_rnd(8) == 0, data_null = harness_rnd(8) == 0;
	struct mmsg m;

	harness_trail_op(old ? "getmsg" : "getpmsg");
	ctl.maxlen = harness_rnd(5) == 0 ? -1 : (int)harness_rnd(MAXCTL + 1);
	data.maxlen = harness_rnd(5) == 0 ? -1 :
	    (int)harness_rnd(MAXDATA + 1);
	if (old)
		flags = kind == 0 ? 0 : RS_HIPRI;
	else
		flags = kind == 0 ? MSG_ANY : kind == 1 ? MSG_HIPRI : MSG_BAND;
	errno = 0;
	if (old)
		r = ustreams_getmsg(sd, ctl_null ? NULL : &ctl,
		    data_null ? NULL : &data, &flags);
	else
		r = ustreams_getpmsg(sd, ctl_null ? NULL : &ctl,
		    data_null ? NULL : &data, &rband, &flags);

	/*
	 * The model: the read error; else the first message, if it is of
	 * the kind asked for; else, hung up, an empty message (end of file).
	 */
	if ((error = take_err(true)) != 0) {
		TRAIL_REQUIRE(r == -1 && errno == error,
		    "getpmsg should fail with the read error");
		return;
	}
	if (nmodel == 0 || (kind == 1 && !m_hipri(&model[0])) ||
	    (!old && kind == 2 && !m_hipri(&model[0]) &&
	    model[0].m_band < band)) {
		if (!hup) {
			TRAIL_REQUIRE(r == -1 && errno == EAGAIN,
			    "getpmsg should fail with EAGAIN");
			return;
		}
		TRAIL_REQUIRE(r == 0 && flags == 0, "getpmsg at hang-up: "
		    "not an empty message");
		TRAIL_REQUIRE(ctl_null || ctl.len == 0, "getpmsg at hang-up: "
		    "control length not 0");
		TRAIL_REQUIRE(data_null || data.len == 0, "getpmsg at hang-up: "
		    "data length not 0");
		return;
	}
	m = model[0];
	model_remove(0);
	want_flags = old ? (m_hipri(&m) ? RS_HIPRI : 0) :
	    (m_hipri(&m) ? MSG_HIPRI : MSG_BAND);
	want_band = m.m_band;
	if (model_part(m.m_ctl, &m.m_clen, m.m_ctype != 0,
	    ctl_null ? -1 : ctl.maxlen, wc, &wclen))
		more |= MORECTL;
	if (model_part(m.m_data, &m.m_dlen, m.m_hasdata,
	    data_null ? -1 : data.maxlen, wd, &wdlen))
		more |= MOREDATA;
	if (more != 0) {
		/* Parts not asked for stay whole, even of no bytes. */
		if (!(more & MORECTL))
			m.m_clen = 0;
		if (!(more & MOREDATA))
			m.m_hasdata = false;
		if (m.m_ctype != 0 && !(more & MORECTL))
			m.m_ctype = 0;
		model_insert(pos_putbq(&m), &m);
	}
	TRAIL_REQUIRE(r == more, "getpmsg returned the wrong MORE flags");
	TRAIL_REQUIRE(flags == want_flags, "getpmsg gave the wrong class");
	if (!old)
		TRAIL_REQUIRE(rband == want_band, "getpmsg gave the wrong band");
	if (!ctl_null) {
		TRAIL_REQUIRE(ctl.len == wclen, "wrong control length");
		TRAIL_REQUIRE(wclen <= 0 ||
		    memcmp(cbuf, wc, (size_t)wclen) == 0,
		    "wrong control bytes");
	}
	if (!data_null) {
		TRAIL_REQUIRE(data.len == wdlen, "wrong data length");
		TRAIL_REQUIRE(wdlen <= 0 ||
		    memcmp(dbuf, wd, (size_t)wdlen) == 0, "wrong data bytes");
	}
}

/* ---- errors and hang-ups, through errmod(7) ---- */

static int
errmod_ioctl(int cmd, unsigned char *b, int len)
{
	struct strioctl sio = { .ic_cmd = cmd, .ic_len = len,
	    .ic_dp = (char *)b };

	return (ustreams_ioctl(sd, I_STR, &sio));
}

/* An error value: clearing ones are likelier while an error is set. */
static unsigned char
pick_error(void)
{
	static const unsigned char v[] = { 0, NOERROR, EIO, EPROTO };

	if ((rerr != 0 || werr != 0) && harness_rnd(2) == 0)
		return (0);
	return (v[harness_rnd(4)]);
}

/*
 * An M_ERROR of one byte (both sides) or two (read, write): NOERROR
 * leaves a side, 0 clears it, anything else sets it; a read error set
 * flushes the head's read queue.
 */
static void
op_error(void)
{
	unsigned char b[2] = { pick_error(), pick_error() };
	int len = 1 + (int)harness_rnd(2);

	harness_trail_op("M_ERROR");
	TRAIL_REQUIRE(errmod_ioctl(ERRMOD_ERROR, b, len) == 0, "failed");
	settle();
	if (len == 1)
		b[1] = b[0];
	if (b[0] != NOERROR)
		rerr = b[0];
	if (b[1] != NOERROR)
		werr = b[1];
	if (b[0] != NOERROR && b[0] != 0)
		nmodel = 0;
}

static void
op_hangup(void)
{
	bool on = !hup || harness_rnd(4) == 0;

	harness_trail_op(on ? "M_HANGUP" : "M_UNHANGUP");
	TRAIL_REQUIRE(errmod_ioctl(on ? ERRMOD_HANGUP : ERRMOD_UNHANGUP,
	    NULL, 0) == 0, "failed");
	settle();
	hup = on;
}

static void
op_erropt(void)
{
	int got = -1;

	harness_trail_op("I_SERROPT");
	erropt = (harness_rnd(2) ? RERRNONPERSIST : 0) |
	    (harness_rnd(2) ? WERRNONPERSIST : 0);
	TRAIL_REQUIRE(ustreams_ioctl(sd, I_SERROPT, erropt) == 0, "failed");
	TRAIL_REQUIRE(ustreams_ioctl(sd, I_GERROPT, &got) == 0 &&
	    got == ((erropt & RERRNONPERSIST ? RERRNONPERSIST : RERRNORM) |
	    (erropt & WERRNONPERSIST ? WERRNONPERSIST : WERRNORM)),
	    "I_GERROPT does not give back what I_SERROPT set");
}

/* ---- the rest ---- */

static void
op_flush(void)
{
	int band = (int)harness_rnd(NBAND + 2) - 1;	/* -1: I_FLUSH */
	int flag = harness_rnd(3) == 0 ? FLUSHRW : FLUSHR;

	harness_trail_op(band < 0 ? "I_FLUSH" : "I_FLUSHBAND");
	if (band < 0) {
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_FLUSH, flag) == 0, "failed");
		nmodel = 0;
	} else {
		struct bandinfo bi = { (unsigned char)band, flag };

		TRAIL_REQUIRE(ustreams_ioctl(sd, I_FLUSHBAND, &bi) == 0,
		    "failed");
		for (int i = 0; i < nmodel; ) {
			if (!m_hipri(&model[i]) && model[i].m_band == band)
				model_remove(i);
			else
				i++;
		}
	}
	settle();
}

static void
op_rdopt(void)
{
	static const int modes[] = { RNORM, RMSGD, RMSGN };
	static const int prots[] = { RPROTNORM, RPROTDAT, RPROTDIS };
	int got = -1;

	harness_trail_op("I_SRDOPT");
	rdopt = modes[harness_rnd(3)] | prots[harness_rnd(3)];
	TRAIL_REQUIRE(ustreams_ioctl(sd, I_SRDOPT, rdopt) == 0, "failed");
	TRAIL_REQUIRE(ustreams_ioctl(sd, I_GRDOPT, &got) == 0 && got == rdopt,
	    "I_GRDOPT does not give back what I_SRDOPT set");
}

static void
op_plumb(void)
{
	static const char *const mods[] = { "passthru", "tsm_chop" };
	char name[FMNAMESZ + 1];

	if (npushed == 0 || (npushed < MAXPUSH && harness_rnd(2) == 0)) {
		const char *mod = mods[harness_rnd(2)];

		harness_trail_op("I_PUSH");
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_PUSH, mod) == 0, "failed");
		pushed[npushed++] = mod;
	} else {
		harness_trail_op("I_POP");
		TRAIL_REQUIRE(ustreams_ioctl(sd, I_POP) == 0, "failed");
		npushed--;
	}
	TRAIL_REQUIRE(ustreams_ioctl(sd, I_LOOK, name) == 0 &&
	    strcmp(name, npushed > 0 ? pushed[npushed - 1] : "errmod") == 0,
	    "I_LOOK: not the module pushed last");
}

/* I_NREAD and the poll events against the model's first message. */
static void
check(void)
{
	struct pollfd pfd = { .fd = sd, .events = POLLIN | POLLRDNORM |
	    POLLRDBAND | POLLPRI };
	int bytes = -1, n, want = 0;

	n = ustreams_ioctl(sd, I_NREAD, &bytes);
	TRAIL_REQUIRE(n == nmodel, "I_NREAD: wrong number of messages");
	TRAIL_REQUIRE(bytes == (nmodel == 0 || !model[0].m_hasdata ? 0 :
	    model[0].m_dlen), "I_NREAD: wrong data bytes of the first");
	struct pollfd epfd = { .fd = efd, .events = POLLIN };

	if (nmodel > 0) {
		if (m_hipri(&model[0]))
			want = POLLPRI;
		else if (model[0].m_band > 0)
			want = POLLIN | POLLRDBAND;
		else
			want = POLLIN | POLLRDNORM;
	}
	if (rerr != 0 || werr != 0)
		want |= POLLERR;
	if (hup)
		want |= POLLHUP;
	n = ustreams_poll(&pfd, 1, 0);
	TRAIL_REQUIRE(n == (want != 0) && pfd.revents == want,
	    "poll: wrong events");
	/* The descriptor for the application's own loop agrees. */
	n = poll(&epfd, 1, 0);
	TRAIL_REQUIRE(n == (want != 0), want != 0 ?
	    "pollfd not readable though poll has events" :
	    "pollfd readable though poll has no events");
}

static void
run(unsigned seed, unsigned steps)
{
	int error;

	ck_assert_int_eq(ustreams_register_builtins(), 0);
	/* The registry is the process's: the first run registers. */
	error = ustreams_register_module("tsm_chop", &chop_info, 0);
	ck_assert_msg(error == 0 || error == EEXIST, "register: %d", error);
	harness_boot(USTREAMS_MEM_DEFAULT, USTREAMS_EXEC_SIM);
	harness_rnd_seed(seed);
	harness_trail_start(seed);
	nmodel = 0;
	npushed = 0;
	rdopt = RNORM | RPROTNORM;
	rerr = werr = erropt = 0;
	hup = false;
	sd = ustreams_open("echo", O_RDWR | O_NONBLOCK);
	ck_assert_int_ge(sd, 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_SWROPT, SNDZERO), 0);
	ck_assert_int_eq(ustreams_ioctl(sd, I_PUSH, "errmod"), 0);
	efd = ustreams_pollfd(sd);
	ck_assert_int_ge(efd, 0);
	for (unsigned step = 0; step < steps; step++) {
		uint32_t r = harness_rnd(100);

		harness_trail_step(step);
		if (hup && harness_rnd(8) == 0)
			r = 98;		/* a hang-up is mostly undone soon */
		else if (r < 40 && (nmodel >= MAXMSG - 1 ||
		    model_bytes() > MAXBYTES - MAXCTL - MAXDATA))
			r = 40;		/* full: read instead */
		if (r < 15)
			op_write();
		else if (r < 40)
			op_putpmsg();
		else if (r < 65)
			op_read();
		else if (r < 80)
			op_getpmsg(false);
		else if (r < 88)
			op_getpmsg(true);
		else if (r < 91)
			op_flush();
		else if (r < 94)
			op_rdopt();
		else if (r < 96)
			op_plumb();
		else if (r < 98)
			op_error();
		else if (r < 99)
			op_hangup();
		else
			op_erropt();
		harness_trail_check();
		check();
	}
	ck_assert_int_eq(ustreams_close(sd), 0);
	harness_assert_no_block_in_use("seed %u, at the end", seed);
	harness_shutdown();
}

START_TEST(test_random_reads_and_getmsgs_follow_the_model)
{
	for (unsigned seed = 0; seed < 200; seed++)
		run(seed, 3000);
}
END_TEST

static Suite *
sthead_model_suite(void)
{
	Suite *s = suite_create("sthead_model");
	TCase *tc = harness_tcase("model", 300);

	tcase_add_test(tc, test_random_reads_and_getmsgs_follow_the_model);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(sthead_model_suite()));
}
