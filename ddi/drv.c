/*
 * drv_getparm, drv_usectohz, drv_hztousec, drv_usecwait: the clock as a
 * driver sees it.
 *
 * lbolt counts clock ticks (HZ a second) since boot, on the executive's
 * clock: virtual time under sim, so that a scenario's timing does not depend
 * on the machine running it.  TIME is seconds since the epoch; under sim it
 * is a fixed start date plus virtual time, again for reproducibility.
 */
#include <sys/ddi.h>
#include <sys/debug.h>

#include <time.h>

#include "exec.h"

/* Under sim, TIME starts at 2000-01-01 00:00:00 UTC. */
#define	SIM_EPOCH	946684800

/*
 * drv_getparm - read a kernel parameter.  LBOLT (clock_t) and TIME
 * (time_t) are supported; the process-related parameters have no meaning
 * for a user-space instance and fail.  Returns 0, or -1 for an unsupported
 * parameter or when no instance is running.  Base or interrupt.
 */
int
drv_getparm(ulong_t parm, void *value_p)
{
	uint64_t now;

	if (ust_exec == NULL || value_p == NULL)
		return (-1);
	now = ust_now();
	switch (parm) {
	case LBOLT:
		*(clock_t *)value_p = (clock_t)(now / (1000000000ull / HZ));
		return (0);
	case TIME:
		if (ust_exec_is_sim())
			*(time_t *)value_p = SIM_EPOCH +
			    (time_t)(now / 1000000000ull);
		else
			*(time_t *)value_p = time(NULL);
		return (0);
	default:
		return (-1);
	}
}

/*
 * drv_usectohz - microseconds to clock ticks, rounded up (a delay is
 * never shortened).  Negative values give 0.
 */
clock_t
drv_usectohz(clock_t microsecs)
{
	const clock_t usec_per_tick = 1000000 / HZ;

	if (microsecs <= 0)
		return (0);
	return ((microsecs - 1) / usec_per_tick + 1);
}

/*
 * drv_hztousec - clock ticks to microseconds; saturates rather than
 * overflowing.  Negative values give 0.
 */
clock_t
drv_hztousec(clock_t ticks)
{
	const clock_t usec_per_tick = 1000000 / HZ;

	if (ticks <= 0)
		return (0);
	if (ticks > (clock_t)(((unsigned long)-1 >> 1) / usec_per_tick))
		return ((clock_t)((unsigned long)-1 >> 1));
	return (ticks * usec_per_tick);
}

/*
 * drv_usecwait - busy-wait at least microsecs.  Under sim the virtual
 * clock advances by the wait (the CPU was busy); events that fall due
 * meanwhile run when the sim next runs events.  Any context; does not
 * sleep, but does not yield the CPU either: keep waits short.
 */
void
drv_usecwait(clock_t microsecs)
{
	if (microsecs <= 0 || ust_exec == NULL)
		return;
	ust_exec->eo_delay((uint64_t)microsecs > UINT64_MAX / 1000u ?
	    UINT64_MAX : (uint64_t)microsecs * 1000u);
}

/*
 * makedevice, getmajor, getminor - build and take apart device numbers.
 */
dev_t
makedevice(major_t major, minor_t minor)
{
	return ((dev_t)(((uint64_t)(major & L_MAXMAJ) << 20) |
	    (minor & L_MAXMIN)));
}

major_t
getmajor(dev_t dev)
{
	return ((major_t)(((uint64_t)dev >> 20) & L_MAXMAJ));
}

minor_t
getminor(dev_t dev)
{
	return ((minor_t)((uint64_t)dev & L_MAXMIN));
}
