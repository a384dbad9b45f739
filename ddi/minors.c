/*
 * ustreams_minor_alloc, ustreams_minor_free: the minor numbers of a clone
 * driver.
 *
 * A bitmap of 64-bit words changed with compare-and-swap: an open takes
 * the lowest clear bit, a close clears it.  No lock, no memory from the
 * instance: the set is a driver's static data and outlives instances, as
 * the driver's registration does.
 */
#include <sys/ddi.h>
#include <sys/debug.h>

#include <stdatomic.h>

/*
 * ustreams_minor_alloc - the lowest free minor of the set, now in use; -1
 * when every one is.  Any context; does not block.
 */
int
ustreams_minor_alloc(struct ustreams_minors *mp)
{
	for (unsigned w = 0; w * 64 < mp->um_n; w++) {
		uint64_t bits = atomic_load(&mp->um_bits[w]);

		for (;;) {
			unsigned b;

			if (bits == UINT64_MAX)
				break;
			b = (unsigned)__builtin_ctzll(~bits);
			if (w * 64 + b >= mp->um_n)
				break;
			if (atomic_compare_exchange_weak(&mp->um_bits[w], &bits,
			    bits | (1ull << b)))
				return ((int)(w * 64 + b));
		}
	}
	return (-1);
}

/*
 * ustreams_minor_free - give minor back.  It must be in use.
 */
void
ustreams_minor_free(struct ustreams_minors *mp, minor_t minor)
{
	uint64_t bit = 1ull << (minor % 64);
	uint64_t old;

	VERIFY(minor < mp->um_n);
	old = atomic_fetch_and(&mp->um_bits[minor / 64], ~bit);
	VERIFY(old & bit);
}
