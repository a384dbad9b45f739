/*
 * The module and driver switch: drivers and modules registered by name,
 * the counterpart of SVR4's cdevsw and fmodsw.
 *
 * The table belongs to the process and outlives instances, so that an
 * application can register its modules once.  A driver gets a major
 * number (its slot + 1).  modsw_lock protects the table and the open
 * counts; a name is looked up when a stream is opened or a module pushed,
 * never on the put path.
 */
#include <sys/stream.h>
#include <sys/ustreams.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "stream_impl.h"

static pthread_mutex_t modsw_lock = PTHREAD_MUTEX_INITIALIZER;
static struct modsw modsw[USTREAMS_NMODSW];
static bool modsw_used[USTREAMS_NMODSW];

/*
 * A multiplexing driver's lower side: both qinits or neither, each with a
 * put procedure and a module_info, as the upper ones; a module has none.
 */
static bool
mux_qinits_ok(const struct streamtab *tab, bool driver)
{
	const struct qinit *r = tab->st_muxrinit, *w = tab->st_muxwinit;

	if (r == NULL && w == NULL)
		return (true);
	return (driver && r != NULL && w != NULL && r->qi_putp != NULL &&
	    w->qi_putp != NULL && r->qi_minfo != NULL && w->qi_minfo != NULL);
}

static int
modsw_register(const char *name, struct streamtab *tab, int flags,
    bool driver)
{
	int slot = -1;

	if (name == NULL || name[0] == '\0' ||
	    tab == NULL || tab->st_rdinit == NULL ||
	    tab->st_rdinit->qi_qopen == NULL ||
	    strlen(name) >= sizeof (modsw[0].ms_name) ||
	    tab->st_rdinit == NULL || tab->st_wrinit == NULL ||
	    tab->st_rdinit->qi_minfo == NULL ||
	    tab->st_wrinit->qi_minfo == NULL ||
	    tab->st_wrinit->qi_putp == NULL || tab->st_rdinit->qi_putp == NULL ||
	    (flags & ~USTREAMS_MTSAFE) != 0 || !mux_qinits_ok(tab, driver))
		return (EINVAL);
	pthread_mutex_lock(&modsw_lock);
	for (int i = 0; i < USTREAMS_NMODSW; i++) {
		if (modsw_used[i] && strcmp(modsw[i].ms_name, name) == 0) {
			pthread_mutex_unlock(&modsw_lock);
			return (EEXIST);
		}
		if (!modsw_used[i] && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		pthread_mutex_unlock(&modsw_lock);
		return (ENOSPC);
	}
	memset(&modsw[slot], 0, sizeof (modsw[slot]));
	(void) strcpy(modsw[slot].ms_name, name);
	modsw[slot].ms_tab = tab;
	modsw[slot].ms_flags = flags;
	modsw[slot].ms_driver = driver;
	modsw[slot].ms_major = (major_t)slot + 1;
	modsw_used[slot] = true;
	pthread_mutex_unlock(&modsw_lock);
	return (0);
}

/*
 * ustreams_register_driver, ustreams_register_module - see
 * <sys/ustreams.h>.
 */
int
ustreams_register_driver(const char *name, struct streamtab *tab, int flags)
{
	return (modsw_register(name, tab, flags, true));
}

int
ustreams_register_module(const char *name, struct streamtab *tab, int flags)
{
	return (modsw_register(name, tab, flags, false));
}

int
ustreams_unregister(const char *name)
{
	int error = ENOENT;

	if (name == NULL)
		return (EINVAL);
	pthread_mutex_lock(&modsw_lock);
	for (int i = 0; i < USTREAMS_NMODSW; i++) {
		if (modsw_used[i] && strcmp(modsw[i].ms_name, name) == 0) {
			if (modsw[i].ms_refs > 0) {
				error = EBUSY;
			} else {
				modsw_used[i] = false;
				error = 0;
			}
			break;
		}
	}
	pthread_mutex_unlock(&modsw_lock);
	return (error);
}

/* Find a driver or module by name and count one more instance of it. */
struct modsw *
modsw_find(const char *name, bool driver)
{
	struct modsw *sw = NULL;

	pthread_mutex_lock(&modsw_lock);
	for (int i = 0; i < USTREAMS_NMODSW; i++) {
		if (modsw_used[i] && modsw[i].ms_driver == driver &&
		    strcmp(modsw[i].ms_name, name) == 0) {
			sw = &modsw[i];
			sw->ms_refs++;
			break;
		}
	}
	pthread_mutex_unlock(&modsw_lock);
	return (sw);
}

/* Is a module (or driver) of that name registered? */
bool
modsw_exists(const char *name, bool driver)
{
	bool found = false;

	pthread_mutex_lock(&modsw_lock);
	for (int i = 0; i < USTREAMS_NMODSW && !found; i++)
		found = modsw_used[i] && modsw[i].ms_driver == driver &&
		    strcmp(modsw[i].ms_name, name) == 0;
	pthread_mutex_unlock(&modsw_lock);
	return (found);
}

void
modsw_rele(struct modsw *sw)
{
	pthread_mutex_lock(&modsw_lock);
	sw->ms_refs--;
	pthread_mutex_unlock(&modsw_lock);
}
