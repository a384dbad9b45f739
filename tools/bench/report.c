/*
 * bench: run the measuring programs and print one report.
 *
 * Usage: bench [-o FILE] [-s NAME:REASON]... [PROGRAM]...
 *
 * Each PROGRAM (by default bench-ustreams, bench-stream, bench-glibc and
 * bench-dpdk from ../bench next to this program) is run in turn; its standard
 * output is read as "key figures" lines (see bench.h) and its standard
 * error goes to PROGRAM.log.  The report is printed on standard output
 * and, with -o, written to FILE as well.  -s says that program NAME was
 * not built, and why: the report says "NAME: skipped (REASON)" and its
 * columns read "-".  A program that fails, or says it cannot measure
 * (skip.NAME), does not stop the others: its figures are missing, and the
 * report says why in the same way.
 *
 * Targets from the project's issues are printed as PASS or MISS beside
 * the figures, for information: the exit status is 0 whatever they say,
 * and non-zero only when a program could not be run at all.
 *
 * ustreams against DPDK is judged on the paired figures (pair.*), which
 * bench-ustreams takes from alternating runs of the two in one process:
 * bench-dpdk's own figures come from another time, and the machine's
 * drift between the two programs would be in their ratio.  bench-dpdk's
 * figures are shown beside, as DPDK's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define	MAXKEYS		1024
#define	MAXPROGS	8
#define	LINE		1024

static const size_t sizes[] = { 64, 512, 2048, 9000 };
#define	NSIZES		(sizeof (sizes) / sizeof (sizes[0]))
#define	SIZE		2048
#define	TOLERANCE	0.03	/* "nothing measurable": within 3% */

/* What the programs printed. */
static struct {
	char	*k_key;
	char	*k_val;
} keys[MAXKEYS];
static int nkeys;

/* Programs that were not built or did not run, and why. */
static struct {
	char	name[64];
	char	why[LINE];
} skips[MAXPROGS * 2];
static int nskips;

static FILE *out;		/* the report being written */
static double load_start[3];	/* load average before the first program */

static void
put(const char *key, const char *val)
{
	for (int i = 0; i < nkeys; i++) {
		if (strcmp(keys[i].k_key, key) == 0) {
			free(keys[i].k_val);
			keys[i].k_val = strdup(val);
			return;
		}
	}
	if (nkeys < MAXKEYS) {
		keys[nkeys].k_key = strdup(key);
		keys[nkeys].k_val = strdup(val);
		nkeys++;
	}
}

static const char *
get(const char *fmt, ...)
{
	char key[256];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(key, sizeof (key), fmt, ap);
	va_end(ap);
	for (int i = 0; i < nkeys; i++) {
		if (strcmp(keys[i].k_key, key) == 0)
			return (keys[i].k_val);
	}
	return (NULL);
}

static void
skip(const char *name, const char *fmt, ...)
{
	va_list ap;

	if (nskips >= MAXPROGS * 2)
		return;
	(void) snprintf(skips[nskips].name, sizeof (skips[nskips].name), "%s",
	    name);
	va_start(ap, fmt);
	(void) vsnprintf(skips[nskips].why, sizeof (skips[nskips].why), fmt,
	    ap);
	va_end(ap);
	nskips++;
}

static const char *
skipped(const char *name)
{
	for (int i = 0; i < nskips; i++) {
		if (strcmp(skips[i].name, name) == 0)
			return (skips[i].why);
	}
	return (NULL);
}

static const char *
or(const char *v, const char *dflt)
{
	return (v != NULL ? v : dflt);
}

/* A figure "median min max"; false (and NaNs) when missing. */
static bool
fig(double f[3], const char *fmt, ...)
{
	char key[256];
	const char *v;
	va_list ap;

	f[0] = f[1] = f[2] = NAN;
	va_start(ap, fmt);
	(void) vsnprintf(key, sizeof (key), fmt, ap);
	va_end(ap);
	if ((v = get("%s", key)) == NULL)
		return (false);
	if (sscanf(v, "%lf %lf %lf", &f[0], &f[1], &f[2]) < 1)
		return (false);
	return (!isnan(f[0]));
}

static double
num(const char *fmt, ...)
{
	char key[256];
	const char *v;
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(key, sizeof (key), fmt, ap);
	va_end(ap);
	v = get("%s", key);
	return (v == NULL ? NAN : strtod(v, NULL));
}

/*
 * Run one program; its "key value" lines go into the table under the
 * keys it prints.  Returns its exit status, or -1 when it could not run.
 */
static int
run(const char *path)
{
	char logpath[PATH_MAX], line[LINE];
	int pfd[2], status, lfd;
	time_t t0 = time(NULL);
	pid_t pid;
	FILE *fp;

	(void) snprintf(logpath, sizeof (logpath), "%s.log", path);
	fprintf(stderr, "bench: running %s ...\n", path);
	if (pipe(pfd) != 0)
		return (-1);
	if ((pid = fork()) < 0)
		return (-1);
	if (pid == 0) {
		(void) dup2(pfd[1], 1);
		(void) close(pfd[0]);
		(void) close(pfd[1]);
		if ((lfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0)
			(void) dup2(lfd, 2);
		execl(path, path, (char *)NULL);
		fprintf(stderr, "bench: cannot run %s: %s\n", path,
		    strerror(errno));
		_exit(127);
	}
	(void) close(pfd[1]);
	fp = fdopen(pfd[0], "r");
	while (fp != NULL && fgets(line, sizeof (line), fp) != NULL) {
		char *sp;

		line[strcspn(line, "\n")] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		put(line, sp);
	}
	if (fp != NULL)
		(void) fclose(fp);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	fprintf(stderr, "bench: %s done in %ld s\n", path,
	    (long)(time(NULL) - t0));
	if (WIFEXITED(status))
		return (WEXITSTATUS(status));
	return (128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}

static const char *
prog_name(const char *path, char *buf, size_t len)
{
	const char *b = strrchr(path, '/');

	b = b == NULL ? path : b + 1;
	if (strncmp(b, "bench-", 6) == 0)
		b += 6;
	(void) snprintf(buf, len, "%s", b);
	return (buf);
}

/* Formatting. */

static void
p(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void
p(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) vfprintf(out, fmt, ap);
	va_end(ap);
}

/* "12.3" or "-": a figure's median in a field. */
static const char *
ns(char *buf, size_t len, const double f[3])
{
	if (isnan(f[0]))
		(void) snprintf(buf, len, "-");
	else if (f[0] >= 1000)
		(void) snprintf(buf, len, "%.0f", f[0]);
	else
		(void) snprintf(buf, len, "%.1f", f[0]);
	return (buf);
}

/* "[11.9-12.5]": the spread of a figure. */
static const char *
spread(char *buf, size_t len, const double f[3])
{
	if (isnan(f[0]))
		(void) snprintf(buf, len, " ");
	else
		(void) snprintf(buf, len, "[%.1f-%.1f]", f[1], f[2]);
	return (buf);
}

static const char *
ratio(char *buf, size_t len, double a, double b)
{
	if (isnan(a) || isnan(b) || b == 0)
		(void) snprintf(buf, len, "-");
	else
		(void) snprintf(buf, len, "%.2fx", a / b);
	return (buf);
}

/* "1.21x" or "-": a paired figure's median ratio. */
static const char *
pratio(char *buf, size_t len, const double f[3])
{
	if (isnan(f[0]))
		(void) snprintf(buf, len, "-");
	else
		(void) snprintf(buf, len, "%.2fx", f[0]);
	return (buf);
}

/*
 * Why the paired figures of ustreams against DPDK are missing: DPDK not
 * measured at all, or not in bench-ustreams.
 */
static const char *
pair_why(void)
{
	const char *why;

	if ((why = skipped("dpdk")) != NULL ||
	    (why = get("skip.pair")) != NULL ||
	    (why = skipped("ustreams")) != NULL)
		return (why);
	return ("bench-ustreams gave no paired figure");
}

/*
 * A row of paired figures: ustreams' and the other's ns in the paired
 * runs, then the median ratio over the pairs with the lowest and highest
 * pair, after LABEL in a field of WIDTH.  KEY is the ratio's key; the
 * figures are under KEY.ustreams and KEY.OTHER.
 */
static void
pair_row(int width, const char *label, const char *key, const char *other)
{
	double u[3], d[3], r[3];
	char b[2][32], s[2][32], cell[2][64], rc[48];

	(void) fig(r, "%s", key);
	(void) fig(u, "%s.ustreams", key);
	(void) fig(d, "%s.%s", key, other);
	(void) snprintf(cell[0], sizeof (cell[0]), "%s %s",
	    ns(b[0], sizeof (b[0]), u), spread(s[0], sizeof (s[0]), u));
	(void) snprintf(cell[1], sizeof (cell[1]), "%s %s",
	    ns(b[1], sizeof (b[1]), d), spread(s[1], sizeof (s[1]), d));
	if (isnan(r[0]))
		(void) snprintf(rc, sizeof (rc), "-");
	else
		(void) snprintf(rc, sizeof (rc), "%.2fx [%.2f-%.2f]", r[0],
		    r[1], r[2]);
	p("   %-*s %-22s %-22s %s\n", width, label, cell[0], cell[1], rc);
}

/* How the report names a program's allocator. */
static const char *
display_name(const char *prog)
{
	return (strcmp(prog, "dpdk") == 0 ? "DPDK" : prog);
}

static int npass, nmiss, nna;

static void
target(int verdict, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* verdict: 1 PASS, 0 MISS, -1 not measured. */
static void
target(int verdict, const char *what, const char *fmt, ...)
{
	va_list ap;

	p("  %-5s %s: ", verdict > 0 ? "PASS" : verdict == 0 ? "MISS" : "n/a",
	    what);
	va_start(ap, fmt);
	(void) vfprintf(out, fmt, ap);
	va_end(ap);
	p("\n");
	if (verdict > 0)
		npass++;
	else if (verdict == 0)
		nmiss++;
	else
		nna++;
}

/* The load average (1, 5, 15 minutes); zeros where there is none. */
static void
loadavg(double la[3])
{
	FILE *fp;

	la[0] = la[1] = la[2] = 0;
	if ((fp = fopen("/proc/loadavg", "r")) != NULL) {
		if (fscanf(fp, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
			la[0] = la[1] = la[2] = 0;
		(void) fclose(fp);
	}
}

static void
header(void)
{
	struct utsname u;
	double la[3];

	(void) uname(&u);
	loadavg(la);
	p("ustreams benchmarks\n");
	p("===================\n\n");
	p("Machine:  %ld CPUs online, %s %s; load average %.2f before, "
	    "%.2f after\n", sysconf(_SC_NPROCESSORS_ONLN), u.sysname,
	    u.machine, load_start[0], la[0]);
	p("Versions: ustreams %s (release build), jemalloc %.*s, glibc %s, "
	    "DPDK %s\n", or(get("ustreams.version"), "?"),
	    (int)strcspn(or(get("jemalloc.version"), "?"), "-"),
	    or(get("jemalloc.version"), "?"), or(get("glibc.version"), "?"),
	    strncmp(or(get("dpdk.version"), ""), "DPDK ", 5) == 0 ?
	    get("dpdk.version") + 5 : or(get("dpdk.version"), "not measured"));
	p("Method:   each figure is the median of %s runs of about %s ms, "
	    "[fastest-slowest]\n          beside it; ns = nanoseconds per "
	    "allocation+free (lower is better).\n",
	    or(get("bench.reps"), "?"),
	    or(get("bench.rep_ms"), "?"));
	p("          ustreams: allocb(size, BPRI_MED) + freeb, threads "
	    "executive, %s-byte budget.\n",
	    or(get("ustreams.memsize"), "?"));
	p("          jemalloc: mallocx(size, 0) + dallocx(p, 0), default "
	    "arena and thread cache.\n");
	p("          glibc: malloc + free, in a program without jemalloc.\n");
	p("          DPDK: rte_pktmbuf_alloc + rte_pktmbuf_free, one pool "
	    "per size, mempool cache 256.\n");
	p("          ustreams over DPDK: from alternating runs of the two in "
	    "one process.\n");
	for (int i = 0; i < nskips; i++)
		p("%s: skipped (%s)\n", display_name(skips[i].name),
		    skips[i].why);
	p("\n");
}

static const char *const allocs[] = { "ustreams", "jemalloc", "glibc",
	"dpdk" };
static const char *const progs[] = { "ustreams", "ustreams", "glibc",
	"dpdk" };
#define	NALLOCS	4

static void
section_single(void)
{
	char b[4][32], s[4][32], r[3][16];
	double f[NALLOCS][3], pr[3];

	p("1. allocb+freeb against the others, one thread "
	    "(ns per allocation+free)\n\n");
	p("   %5s  %-22s %-22s %-22s %-22s %7s %7s %7s\n", "bytes",
	    "ustreams", "jemalloc", "glibc", "DPDK", "u/jem", "u/glibc",
	    "u/DPDK");
	for (size_t i = 0; i < NSIZES; i++) {
		for (int a = 0; a < NALLOCS; a++)
			(void) fig(f[a], "%s.single.%zu", allocs[a], sizes[i]);
		(void) fig(pr, "pair.single.%zu", sizes[i]);
		p("   %5zu ", sizes[i]);
		for (int a = 0; a < NALLOCS; a++) {
			char cell[64];

			(void) snprintf(cell, sizeof (cell), "%s %s",
			    ns(b[a], sizeof (b[a]), f[a]),
			    spread(s[a], sizeof (s[a]), f[a]));
			p(" %-22s", cell);
		}
		p(" %7s %7s %7s\n", ratio(r[0], sizeof (r[0]), f[0][0],
		    f[1][0]), ratio(r[1], sizeof (r[1]), f[0][0], f[2][0]),
		    pratio(r[2], sizeof (r[2]), pr));
	}
	p("\n   u/x: the ustreams figure over allocator x's (below 1.00x: "
	    "ustreams is faster).\n   ustreams and jemalloc are measured in "
	    "one program, their runs alternating; glibc\n   in another, run "
	    "at another time, so the machine's drift is in u/glibc.\n");
	for (int a = 2; a < NALLOCS; a++) {
		if (skipped(progs[a]) != NULL)
			p("   %s: skipped (%s)\n", display_name(progs[a]),
			    skipped(progs[a]));
	}
	if (!fig(pr, "pair.single.%d", SIZE)) {
		/* A skipped DPDK is said above. */
		if (skipped("dpdk") == NULL)
			p("   u/DPDK: not measured (%s)\n", pair_why());
		p("\n");
		return;
	}
	p("   u/DPDK is not the ustreams column over the DPDK column, which "
	    "come from two\n   programs run at different times: it is from "
	    "alternating runs in one process\n   (bench-ustreams, DPDK linked "
	    "in), one allocb+freeb run then one DPDK run, %s\n   pairs; the "
	    "median over the pairs of the one's time over the other's, "
	    "with the\n   lowest and highest pair.  The DPDK column is DPDK's "
	    "own program (bench-dpdk).\n\n", or(get("bench.reps"), "?"));
	p("   %5s  %-22s %-22s %s\n", "bytes", "ustreams, paired",
	    "DPDK, paired", "u/DPDK [pairs]");
	for (size_t i = 0; i < NSIZES; i++) {
		char label[32], key[32];

		(void) snprintf(label, sizeof (label), "%5zu", sizes[i]);
		(void) snprintf(key, sizeof (key), "pair.single.%zu",
		    sizes[i]);
		pair_row(6, label, key, "dpdk");
	}
	p("\n");
}

static void
section_burst(void)
{
	static const char *const rows[] = { "ustreams", "jemalloc", "glibc",
		"dpdk", "dpdk_bulk" };
	static const char *const label[] = { "ustreams (allocb, freeb)",
		"jemalloc (mallocx, dallocx)", "glibc (malloc, free)",
		"DPDK, 32 single calls each way",
		"DPDK, alloc_bulk + free_bulk" };
	static const char *const pairs[] = { NULL, NULL, NULL, "burst",
		"burst_bulk" };
	double f[3], u[3], single[3], pr[3];
	char b[32], s[32], r[16], r2[16];

	p("2. Bursts: 32 allocations, then the 32 frees, %d bytes "
	    "(ns per allocation+free)\n\n", SIZE);
	p("   %-32s %-22s %9s %12s\n", "", "ns", "ust/this",
	    "this/single");
	(void) fig(u, "ustreams.burst.%d", SIZE);
	for (size_t i = 0; i < sizeof (rows) / sizeof (rows[0]); i++) {
		char cell[64];

		(void) fig(f, "%s.burst.%d", rows[i], SIZE);
		(void) fig(single, "%s.single.%d",
		    strcmp(rows[i], "dpdk_bulk") == 0 ? "dpdk" : rows[i], SIZE);
		(void) snprintf(cell, sizeof (cell), "%s %s",
		    ns(b, sizeof (b), f), spread(s, sizeof (s), f));
		/* Against DPDK, the ratio of the paired runs. */
		if (pairs[i] != NULL) {
			(void) fig(pr, "pair.%s.%d", pairs[i], SIZE);
			(void) pratio(r, sizeof (r), pr);
		} else {
			(void) ratio(r, sizeof (r), u[0], f[0]);
		}
		p("   %-32s %-22s %9s %12s\n", label[i], cell, r,
		    ratio(r2, sizeof (r2), f[0], single[0]));
	}
	p("\n   this/single: the burst figure over the same allocator's "
	    "one-at-a-time figure;\n   jemalloc's thread cache holds 20 "
	    "blocks of 2 KiB, so a burst of 32 reaches its arena.\n");
	if (!fig(pr, "pair.burst.%d", SIZE)) {
		if (skipped("dpdk") == NULL)
			p("   ust/this, DPDK: not measured (%s)\n", pair_why());
		p("\n");
		return;
	}
	p("   ust/this for DPDK is from alternating runs in one process, as "
	    "u/DPDK in section 1:\n   one ustreams burst run then one DPDK "
	    "run, %s pairs, the median ratio over the pairs\n   with the "
	    "lowest and highest pair.  The ns above are DPDK's own program's."
	    "\n\n", or(get("bench.reps"), "?"));
	p("   %-32s %-22s %-22s %s\n", "paired runs", "ustreams, paired",
	    "DPDK, paired", "ust/this [pairs]");
	for (size_t i = 0; i < sizeof (rows) / sizeof (rows[0]); i++) {
		char key[32];

		if (pairs[i] == NULL)
			continue;
		(void) snprintf(key, sizeof (key), "pair.%s.%d", pairs[i],
		    SIZE);
		pair_row(32, label[i], key, rows[i]);
	}
	p("\n");
}

static void
section_threads(void)
{
	double f1[3], f2[3], sc;
	char b1[32], b2[32], s1[32], s2[32];

	p("3. Two threads, each allocating and freeing its own %d-byte "
	    "blocks\n\n", SIZE);
	p("   %-10s %-24s %-24s %8s\n", "", "1 thread: ns/op",
	    "2 threads: ns/op (all)", "scaling");
	for (int a = 0; a <= NALLOCS + 1; a++) {
		const char *al = a < NALLOCS ? allocs[a] :
		    a == NALLOCS ? "dpdk_same" : "arith";
		char c1[64], c2[64];

		if (a == NALLOCS && get("dpdk_same.scaling.%d", SIZE) == NULL)
			continue;
		sc = num("%s.scaling.%d", al, SIZE);
		(void) fig(f1, "%s.threads1.%d", al, SIZE);
		(void) fig(f2, "%s.threads2.%d", al, SIZE);
		(void) snprintf(c1, sizeof (c1), "%s %s",
		    ns(b1, sizeof (b1), f1), spread(s1, sizeof (s1), f1));
		(void) snprintf(c2, sizeof (c2), "%s %s",
		    ns(b2, sizeof (b2), f2), spread(s2, sizeof (s2), f2));
		if (a == NALLOCS + 1)
			p("   for scale, two threads that allocate nothing:\n");
		if (isnan(sc))
			p("   %-10s %-24s %-24s %8s\n", al, c1, c2, "-");
		else
			p("   %-10s %-24s %-24s %7.2fx\n", al, c1, c2, sc);
	}
	p("\n   ns/op (all): a run's wall time over the operations of both "
	    "threads.  Scaling: the\n   one-thread figure over the "
	    "two-thread one, median of alternating pairs of runs\n   (2.00x "
	    "is perfect on 2 CPUs).  Each thread is bound to a CPU of its "
	    "own\n   (unprivileged sched_setaffinity).  ustreams runs the "
	    "threads executive; the\n   threads are the benchmark's own.  "
	    "DPDK's threads "
	    "register as lcores (rte_thread_register)\n   to get a mempool "
	    "cache.  arith: a loop of arithmetic, no memory traffic.\n");
	if (get("dpdk_same.scaling.%d", SIZE) != NULL)
		p("   dpdk_same: DPDK in bench-ustreams, its rounds alternating "
		    "with ustreams'; dpdk:\n   DPDK's own program, at another "
		    "time.\n");
	sc = num("arith.scaling.%d", SIZE);
	if (!isnan(sc) && sc < 1.8)
		p("   NOTE: in this run the machine gave two threads that "
		    "allocate nothing only\n   %.2fx (other work was running, "
		    "see the load average): the scaling figures\n   above say "
		    "as much about the machine as about the allocators.\n", sc);
	p("\n");
}

static void
section_pipeline(void)
{
	double f[3], single[3];
	char b[32], s[32], r[16], bs[32];

	p("4. Producer/consumer: allocated on one thread, freed on another, "
	    "%d bytes\n\n", SIZE);
	p("   %-10s %-24s %-16s %8s\n", "", "ns per block", "1 thread (ns)",
	    "ratio");
	for (int a = 0; a <= NALLOCS + 1; a++) {
		const char *al = a < NALLOCS ? allocs[a] :
		    a == NALLOCS ? "dpdk_same" : "arith";
		char cell[64];

		if (a == NALLOCS && get("dpdk_same.pipeline.%d", SIZE) == NULL)
			continue;
		(void) fig(f, "%s.pipeline.%d", al, SIZE);
		/* dpdk_same's one thread: DPDK's side of the paired runs. */
		if (a == NALLOCS)
			(void) fig(single, "pair.single.%d.dpdk", SIZE);
		else
			(void) fig(single, "%s.single.%d", al, SIZE);
		(void) snprintf(cell, sizeof (cell), "%s %s",
		    ns(b, sizeof (b), f), spread(s, sizeof (s), f));
		if (a == NALLOCS + 1) {
			p("   for scale, the ring alone (a token, nothing "
			    "allocated):\n");
			p("   %-10s %-24s\n", "ring", cell);
			break;
		}
		p("   %-10s %-24s %-16s %8s\n", al, cell,
		    ns(bs, sizeof (bs), single),
		    ratio(r, sizeof (r), f[0], single[0]));
	}
	p("\n   A lock-free single-producer single-consumer ring of 512 "
	    "pointers carries the blocks;\n   ns per block is wall time "
	    "over blocks; ratio: that over one thread's allocation+free\n"
	    "   (section 1).  Both threads are bound to CPUs of their own, "
	    "as in section 3.\n");
	if (get("dpdk_same.pipeline.%d", SIZE) != NULL)
		p("   dpdk_same: DPDK in bench-ustreams, its rounds alternating "
		    "with ustreams'; its one\n   thread figure from the paired "
		    "runs of section 1.\n");
	if (fig(f, "arith.pipeline.%d", SIZE) && f[0] > 2 * f[1])
		p("   NOTE: in this run the ring alone took from %.1f to %.1f "
		    "ns per token (median\n   %.1f): the two threads were "
		    "often not running at the same time (other work\n   was "
		    "running, see the load average), and the figures above "
		    "measure that too.\n", f[1], f[2], f[0]);
	p("\n");
}

static void
section_memory(void)
{
	const char *v;

	p("5. Memory per block\n\n");
	p("   message header: sizeof (mblk_t) %s + sizeof (dblk_t) %s = "
	    "%s bytes\n\n", or(get("ustreams.mblk"), "?"),
	    or(get("ustreams.dblk"), "?"),
	    or(get("ustreams.header"), "?"));
	p("   %-8s %12s %12s %10s %12s\n", "class", "buffer (B)",
	    "footprint (B)", "overhead", "fp/buffer");
	for (int i = 0; i < 32; i++) {
		char name[32];
		size_t size, fp;

		if ((v = get("ustreams.class.%d", i)) == NULL)
			continue;
		if (sscanf(v, "%31s %zu %zu", name, &size, &fp) != 3)
			continue;
		if (size == 0)
			p("   %-8s %12s %12zu %10s %12s\n", name, "-", fp, "-",
			    "-");
		else
			p("   %-8s %12zu %12zu %9.1f%% %11.2fx\n", name, size,
			    fp, 100.0 * (double)(fp - size) / (double)size,
			    (double)fp / (double)size);
	}
	p("\n   mblk: a bare header (dupb); esb: an esballoc header "
	    "(mblk, dblk, free event).\n\n");
	p("   Bytes one block of a requested size occupies:\n\n");
	p("   %5s %10s %10s %10s %10s\n", "bytes", "ustreams", "jemalloc",
	    "glibc", "DPDK");
	for (size_t i = 0; i < NSIZES; i++) {
		double c[NALLOCS];

		for (int a = 0; a < NALLOCS; a++)
			c[a] = num("%s.footprint.%zu", allocs[a], sizes[i]);
		p("   %5zu", sizes[i]);
		for (int a = 0; a < NALLOCS; a++) {
			if (isnan(c[a]))
				p(" %10s", "-");
			else
				p(" %10.0f", c[a]);
		}
		p("\n");
	}
	p("\n   ustreams: the size class (header, buffer); jemalloc: "
	    "nallocx; glibc: the chunk\n   (usable bytes and its size word); "
	    "DPDK: the mempool object (object header,\n   rte_mbuf, "
	    "128-byte headroom, data room, trailer).\n\n");
}

static void
latency_row(const char *label, const char *key)
{
	double p50 = num("%s.p50", key), p99 = num("%s.p99", key);
	double p999 = num("%s.p999", key), mn = num("%s.min", key);
	double n = num("%s.n", key);

	if (isnan(p50)) {
		p("   %-40s -\n", label);
		return;
	}
	p("   %-40s %8.1f %8.1f %8.1f %8.1f   (%0.f samples)\n", label,
	    p50 / 1000, p99 / 1000, p999 / 1000, mn / 1000, n);
}

static void
section_bufcall(void)
{
	static const char *const rows[] = { "fresh", "held", "after",
		"waiters.1", "waiters.16", "waiters.256" };
	static const char *const label[] = {
		"nothing held, no waiter ever",
		"held above LO, no waiter yet",
		"held, no waiter (they came and went)",
		"1 waiter (BPRI_LO, 2048 B)",
		"16 waiters",
		"256 waiters",
	};
	double f[3], base[3];
	char b[32], s[32], r[16];
	const char *v;

	p("6. bufcall\n\n");
	p("   (a) allocb+freeb, %d bytes, BPRI_MED, one thread, while "
	    "waiters that cannot be\n       satisfied wait (memory in use "
	    "%s bytes, LO threshold %s)\n\n", SIZE,
	    or(get("bufcall.held_bytes"), "?"),
	    or(get("bufcall.lo_limit"), "?"));
	(void) fig(base, "bufcall.after");
	p("   %-38s %-22s %10s\n", "", "ns", "vs none");
	for (size_t i = 0; i < sizeof (rows) / sizeof (rows[0]); i++) {
		char cell[64];

		(void) fig(f, "bufcall.%s", rows[i]);
		(void) snprintf(cell, sizeof (cell), "%s %s",
		    ns(b, sizeof (b), f), spread(s, sizeof (s), f));
		p("   %-38s %-22s %10s\n", label[i], cell,
		    i < 2 ? "" : ratio(r, sizeof (r), f[0], base[0]));
	}
	p("\n   The last four alternate run by run (waiters registered and "
	    "cancelled between\n   runs); \"vs none\" is against the "
	    "no-waiter runs among them.\n");
	if ((v = get("bufcall.spurious_fired")) != NULL && atoi(v) != 0)
		p("   (%s waiter callbacks ran; none should have)\n", v);
	p("\n   (b) latency, threads executive: from the freeb that makes "
	    "memory available to the\n       start of the bufcall callback "
	    "(microseconds)\n\n");
	p("   %-40s %8s %8s %8s %8s\n", "", "median", "99th", "99.9th",
	    "min");
	latency_row("freeb to callback start", "bufcall.latency");
	latency_row("freeb itself (a waiter present)", "bufcall.freeb");
	latency_row("for scale: condvar wake-up, other CPU", "wakeup.other");
	latency_row("for scale: condvar wake-up, same CPU", "wakeup.same");
	p("\n");
}

/*
 * Section 7: messages through a stream against a pipe.  The figures are
 * ns per message (flow.NAME.CASE.SIZE), shown as messages per second and
 * MB/s; a flow's ratio (flow.ratio.NAME.CASE.SIZE) is the median over
 * alternating runs of the pipe's time over the flow's, that is the flow's
 * throughput over the pipe's.  With two threads, a bare locked hand-off
 * (flow "handoff") is measured beside them: the most any locked queue
 * could reach.  A figure whose messages failed their check reads
 * "invalid: why".
 */
static const size_t flow_sizes[] = { 64, 1500 };
#define	FLOW_NSIZES	(sizeof (flow_sizes) / sizeof (flow_sizes[0]))
#define	FLOW_TARGET	5.0	/* the stream at least 5x the pipe, 64 B */

/* The reason a flow's figure is invalid, or NULL. */
static const char *
flow_invalid(const char *flow, const char *what, size_t size)
{
	const char *v = get("flow.%s.%s.%zu", flow, what, size);

	if (v == NULL || strncmp(v, "invalid ", 8) != 0)
		return (NULL);
	return (v + 8);
}

/* "1.23M", "523k": a rate, in a few characters. */
static const char *
rate(char *buf, size_t len, double per_s)
{
	if (per_s >= 1e6)
		(void) snprintf(buf, len, "%.2fM", per_s / 1e6);
	else if (per_s >= 1e4)
		(void) snprintf(buf, len, "%.0fk", per_s / 1e3);
	else
		(void) snprintf(buf, len, "%.0f", per_s);
	return (buf);
}

static void
flow_row(const char *flow, const char *label, const char *what, size_t size,
    bool first)
{
	char cell[64], r0[16], r1[16], r2[16], rt[16], b[32];
	const char *why = flow_invalid(flow, what, size);
	double f[3], ratio;

	if (first)
		p("   %5zu  %-10s", size, label);
	else
		p("   %5s  %-10s", "", label);
	if (why != NULL) {
		p(" invalid: %s\n", why);
		return;
	}
	if (!fig(f, "flow.%s.%s.%zu", flow, what, size) || f[0] <= 0) {
		p(" -\n");
		return;
	}
	(void) snprintf(cell, sizeof (cell), "%s [%s-%s]",
	    rate(r0, sizeof (r0), 1e9 / f[0]),
	    rate(r1, sizeof (r1), 1e9 / f[2]),
	    rate(r2, sizeof (r2), 1e9 / f[1]));
	p(" %-26s %9s %8.1f", cell, ns(b, sizeof (b), f),
	    1e3 * (double)size / f[0]);
	ratio = num("flow.ratio.%s.%s.%zu", flow, what, size);
	if (!isnan(ratio)) {
		(void) snprintf(rt, sizeof (rt), "%.2fx", ratio);
		p(" %11s", rt);
	}
	p("\n");
}

static void
flow_case(const char *title, const char *what, bool handoff)
{
	p("   %s\n", title);
	for (size_t i = 0; i < FLOW_NSIZES; i++) {
		flow_row("ustreams", "ustreams", what, flow_sizes[i], true);
		flow_row("pipe", "pipe", what, flow_sizes[i], false);
		if (handoff)
			flow_row("handoff", "hand-off", what, flow_sizes[i],
			    false);
	}
}

static void
section_stream(void)
{
	const char *why = skipped("stream");

	p("7. Stream throughput: write -> passthru -> loop -> read, against "
	    "pipe(2) write+read\n\n");
	if (why != NULL) {
		p("   stream: skipped (%s)\n\n", why);
		return;
	}
	p("   %5s  %-10s %-26s %9s %8s %11s\n", "bytes", "path",
	    "messages/s [slow-fast]", "ns/msg", "MB/s", "over pipe");
	flow_case("one thread writes a message, then reads it back; sim "
	    "executive:", "one.sim", false);
	flow_case("the same, threads executive:", "one.thr", false);
	flow_case("a writer thread and a reader thread, threads executive:",
	    "two", true);
	p("\n   ustreams: two loop(7) streams joined with LOOP_SET, "
	    "passthru(7) pushed on the\n   writing one; ustreams_write on it, "
	    "ustreams_read (RMSGN, one message a read) on\n   the other; "
	    "default water marks (loop 8192/2048, stream head 5120/1024), "
	    "%s\n   service threads.  pipe: pipe2(fds, 0), a %s-byte buffer, "
	    "write(2) and read(2).\n   The pipe's runs alternate with the "
	    "others'; \"over pipe\" is a path's throughput\n   over the "
	    "pipe's, median of the pairs of runs.  Two threads: each bound to "
	    "a CPU\n   of its own; a run is timed from the start to the "
	    "reader's last message.\n   hand-off: no STREAMS at all, the least "
	    "a locked queue costs: the writer copies\n   the message into a "
	    "slot and links it under a mutex, the reader unlinks it under\n"
	    "   the mutex and copies it out; waits spin, then sleep, as "
	    "SV_WAIT does.\n", or(get("flow.thr.ncpus"), "?"),
	    or(get("flow.pipe.bufsize"), "?"));
	p("   Every message carries its sequence number, and its length and "
	    "number are checked\n   as it is read: %s through the stream "
	    "(passthru counted %s going down),\n   %s through the pipe, in "
	    "this run (and %s through the hand-off).\n\n",
	    or(get("flow.ustreams.checked"), "?"),
	    or(get("flow.ustreams.passthru"), "?"),
	    or(get("flow.pipe.checked"), "?"),
	    or(get("flow.handoff.checked"), "?"));
}

/*
 * The stream's target is judged as the issue states it: messages through
 * write, the module, the driver and read, against pipe(2) write+read --
 * each message written and then read, on one thread, for both paths.
 * Both executives must pass.  The writer and reader threads' ratio is
 * shown beside it, with the bare hand-off's from the same runs: between
 * two CPUs every design with a locked queue pays for moving its lines
 * from one CPU to the other, and the hand-off shows how much this machine
 * allows at all (docs/bench.md, section 5).
 */
static void
target_stream(void)
{
	static const char what[] = "64-byte messages at least 5x pipe(2)'s "
	    "throughput";
	const char *why = skipped("stream");
	double sim = num("flow.ratio.ustreams.one.sim.64");
	double thr = num("flow.ratio.ustreams.one.thr.64");
	double two = num("flow.ratio.ustreams.two.64");
	double ho = num("flow.ratio.handoff.two.64");

	if (why == NULL)
		why = flow_invalid("ustreams", "one.sim", 64);
	if (why == NULL)
		why = flow_invalid("pipe", "one.sim", 64);
	if (why == NULL)
		why = flow_invalid("ustreams", "one.thr", 64);
	if (why == NULL)
		why = flow_invalid("pipe", "one.thr", 64);
	if (why != NULL)
		target(-1, what, "invalid: %s", why);
	else if (isnan(sim) || isnan(thr))
		target(-1, what, "-");
	else
		target(sim >= FLOW_TARGET && thr >= FLOW_TARGET, what,
		    "write then read, sim executive %.2fx, threads executive "
		    "%.2fx (writer and reader threads: %.2fx; a bare locked "
		    "hand-off between them: %.2fx)", sim, thr, two, ho);
}

/*
 * DPDK's two-thread figures from the same runs as ustreams' (bench-ustreams
 * with DPDK linked in), as a clause for a target's line; "" without them.
 */
static const char *
dpdk_same_scaling(char *buf, size_t len)
{
	double sc = num("dpdk_same.scaling.%d", SIZE);

	if (isnan(sc))
		return ("");
	(void) snprintf(buf, len, "; DPDK in the same runs: %.2fx", sc);
	return (buf);
}

static const char *
dpdk_same_pipeline(char *buf, size_t len)
{
	double f[3], s[3];

	if (!fig(f, "dpdk_same.pipeline.%d", SIZE) ||
	    !fig(s, "pair.single.%d.dpdk", SIZE))
		return ("");
	(void) snprintf(buf, len, "; DPDK in the same runs: %.1f vs %.1f ns, "
	    "%.2fx", f[0], s[0], f[0] / s[0]);
	return (buf);
}

static void
section_targets(void)
{
	double u[3], d[3], j[3], f[3], h[3], a[3], pr[3];
	double sc, hdr;
	char why[LINE + 32], clause[96];

	p("Targets (from the issues; information, not a test)\n\n");
	if (skipped("dpdk") != NULL)
		(void) snprintf(why, sizeof (why), "DPDK not measured (%s)",
		    skipped("dpdk"));
	else
		(void) snprintf(why, sizeof (why), "not measured against "
		    "DPDK in one process (%s)", pair_why());

	/* Against DPDK: the paired runs' ratio, not two programs'. */
	(void) fig(j, "jemalloc.single.%d", SIZE);
	(void) fig(u, "pair.single.%d.ustreams", SIZE);
	(void) fig(d, "pair.single.%d.dpdk", SIZE);
	if (!fig(pr, "pair.single.%d", SIZE))
		target(-1, "allocb+freeb 2048 B no slower than DPDK", "%s", why);
	else
		target(pr[0] <= 1.0, "allocb+freeb 2048 B no slower than DPDK",
		    "%.2fx, median of %s alternating pairs in one process "
		    "[%.2f-%.2f] (%.1f vs %.1f ns; fastest runs %.1f vs "
		    "%.1f)", pr[0], or(get("bench.reps"), "?"), pr[1], pr[2],
		    u[0], d[0], u[1], d[1]);
	(void) fig(u, "ustreams.single.%d", SIZE);
	if (isnan(u[0]) || isnan(j[0]))
		target(-1, "allocb+freeb 2048 B faster than jemalloc", "-");
	else
		target(u[0] < j[0], "allocb+freeb 2048 B faster than jemalloc",
		    "%.1f vs %.1f ns (%.2fx)", u[0], j[0], u[0] / j[0]);

	(void) fig(u, "pair.burst.%d.ustreams", SIZE);
	(void) fig(d, "pair.burst.%d.dpdk", SIZE);
	if (!fig(pr, "pair.burst.%d", SIZE))
		target(-1, "bursts of 32 no slower than DPDK", "%s", why);
	else
		target(pr[0] <= 1.0, "bursts of 32 no slower than DPDK",
		    "%.2fx against DPDK's single calls, median of %s "
		    "alternating pairs in one process [%.2f-%.2f] (%.1f vs "
		    "%.1f ns; fastest runs %.1f vs %.1f)", pr[0],
		    or(get("bench.reps"), "?"), pr[1], pr[2], u[0], d[0], u[1],
		    d[1]);
	(void) fig(u, "ustreams.burst.%d", SIZE);
	(void) fig(j, "jemalloc.burst.%d", SIZE);
	if (isnan(u[0]) || isnan(j[0]))
		target(-1, "bursts of 32 faster than jemalloc", "-");
	else
		target(u[0] < j[0], "bursts of 32 faster than jemalloc",
		    "%.1f vs %.1f ns (%.2fx)", u[0], j[0], u[0] / j[0]);

	sc = num("ustreams.scaling.%d", SIZE);
	if (isnan(sc))
		target(-1, "2 threads at least 1.8x one thread", "-");
	else
		target(sc >= 1.8, "2 threads at least 1.8x one thread",
		    "%.2fx (threads that allocate nothing: %.2fx%s)", sc,
		    num("arith.scaling.%d", SIZE), dpdk_same_scaling(clause,
		    sizeof (clause)));

	(void) fig(f, "ustreams.pipeline.%d", SIZE);
	(void) fig(u, "ustreams.single.%d", SIZE);
	if (isnan(f[0]) || isnan(u[0]))
		target(-1, "producer/consumer at most 2x one thread", "-");
	else
		target(f[0] <= 2 * u[0],
		    "producer/consumer at most 2x one thread",
		    "%.1f vs %.1f ns (%.2fx%s)", f[0], u[0], f[0] / u[0],
		    dpdk_same_pipeline(clause, sizeof (clause)));

	hdr = num("ustreams.header");
	if (isnan(hdr))
		target(-1, "header at most 128 bytes", "-");
	else
		target(hdr <= 128, "header at most 128 bytes", "%.0f bytes",
		    hdr);

	(void) fig(h, "bufcall.held");
	(void) fig(a, "bufcall.after");
	if (isnan(h[0]) || isnan(a[0])) {
		target(-1, "bufcall adds nothing measurable to freeb when no "
		    "one waits", "-");
	} else {
		/*
		 * Measurable: the medians differ beyond 3% and beyond the
		 * runs' own spread, and so do the fastest runs.  A cost that
		 * freeb pays raises every run, the fastest too; a phase of
		 * the machine's (here, runs at two speeds, the slower
		 * falling more often into one set than the other) moves the
		 * medians and leaves the fastest alone.
		 */
		double noise = fmax(TOLERANCE * h[0],
		    fmax(h[2] - h[1], a[2] - a[1]) / 2);
		bool median = a[0] - h[0] > noise;
		bool fastest = a[1] - h[1] > TOLERANCE * h[1];

		target(!(median && fastest),
		    "bufcall adds nothing measurable to freeb when no one "
		    "waits", "%.1f ns once waiters came and went, %.1f before "
		    "any (noise here: %.1f ns); fastest runs %.1f and %.1f ns",
		    a[0], h[0], noise, a[1], h[1]);
	}
	target_stream();
	p("\n  %d pass, %d miss, %d not measured\n", npass, nmiss, nna);
}

static void
report(void)
{
	header();
	section_single();
	section_burst();
	section_threads();
	section_pipeline();
	section_memory();
	section_bufcall();
	section_stream();
	section_targets();
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench [-o file] [-s name:reason]... "
	    "[program]...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *outfile = NULL;
	char *paths[MAXPROGS], self[PATH_MAX], dir[PATH_MAX], name[64];
	int npaths = 0, c, failed = 0;
	char *buf = NULL;
	size_t len = 0;

	while ((c = getopt(argc, argv, "o:s:")) != -1) {
		char *colon;

		switch (c) {
		case 'o':
			outfile = optarg;
			break;
		case 's':
			if ((colon = strchr(optarg, ':')) == NULL)
				usage();
			*colon = '\0';
			skip(optarg, "%s", colon + 1);
			break;
		default:
			usage();
		}
	}
	for (; optind < argc && npaths < MAXPROGS; optind++)
		paths[npaths++] = argv[optind];
	if (npaths == 0) {
		/* The programs live in ../bench, next to this one. */
		static const char *const def[] = { "bench-ustreams",
			"bench-stream", "bench-glibc", "bench-dpdk" };
		ssize_t n = readlink("/proc/self/exe", self, sizeof (self) - 1);

		if (n <= 0)
			usage();
		self[n] = '\0';
		(void) snprintf(dir, sizeof (dir), "%s", dirname(self));
		for (size_t i = 0; i < sizeof (def) / sizeof (def[0]); i++) {
			char path[PATH_MAX + 64];

			(void) snprintf(path, sizeof (path), "%s/../bench/%s",
			    dir, def[i]);
			if (access(path, X_OK) == 0)
				paths[npaths++] = strdup(path);
			else if (skipped(def[i] + 6) == NULL)
				skip(def[i] + 6, "%s was not built (make "
				    "bench)", def[i]);
		}
	}
	loadavg(load_start);
	for (int i = 0; i < npaths; i++) {
		int st = run(paths[i]);
		const char *why;

		(void) prog_name(paths[i], name, sizeof (name));
		if (st != 0) {
			skip(name, "bench-%s failed (exit status %d; its "
			    "messages are in bench-%s.log)", name, st, name);
			failed = 1;
		} else if ((why = get("skip.%s", name)) != NULL) {
			skip(name, "%s", why);
		}
	}

	if ((out = open_memstream(&buf, &len)) == NULL)
		return (1);
	report();
	(void) fclose(out);
	fwrite(buf, 1, len, stdout);
	(void) fflush(stdout);
	if (outfile != NULL) {
		FILE *fp = fopen(outfile, "w");

		if (fp == NULL || fwrite(buf, 1, len, fp) != len ||
		    fclose(fp) != 0) {
			fprintf(stderr, "bench: cannot write %s: %s\n",
			    outfile, strerror(errno));
			failed = 1;
		} else {
			fprintf(stderr, "bench: report written to %s\n",
			    outfile);
		}
	}
	free(buf);
	return (failed);
}
