/*
 * ustreams_register_builtins - put the drivers and modules that come with
 * ustreams into the switch table, by name.
 *
 * The table belongs to the process (see ustreams_register_driver(3)), so
 * this may be called before or after an instance boots, and as often as
 * convenient: a name already registered is taken to be ours, from an
 * earlier call.
 */
#include <sys/stream.h>
#include <sys/ustreams.h>
#include <sys/ustreams_drivers.h>

#include <errno.h>
#include <stddef.h>

static const struct {
	const char		*b_name;
	struct streamtab	*b_tab;
	bool			b_driver;
	int			b_flags;
} builtins[] = {
	{ "echo", &echoinfo, true, 0 },
	{ "null", &nullinfo, true, 0 },
	{ "loop", &loopinfo, true, 0 },
	{ "log", &loginfo, true, 0 },
	{ "passthru", &passthruinfo, false, USTREAMS_MTSAFE },
	{ "slow", &slowinfo, false, 0 },
	{ "errmod", &errmodinfo, false, 0 },
};

/*
 * ustreams_register_builtins - register echo, null, loop and log as drivers,
 * passthru, slow and errmod as modules.  Returns 0, or the first error
 * other than EEXIST (ENOSPC: the table is full); the names registered
 * before the error stay registered.  Base context; does not block but
 * for the table's lock.
 */
int
ustreams_register_builtins(void)
{
	for (size_t i = 0; i < sizeof (builtins) / sizeof (builtins[0]); i++) {
		int error = builtins[i].b_driver ?
		    ustreams_register_driver(builtins[i].b_name,
		    builtins[i].b_tab, builtins[i].b_flags) :
		    ustreams_register_module(builtins[i].b_name,
		    builtins[i].b_tab, builtins[i].b_flags);

		if (error != 0 && error != EEXIST)
			return (error);
	}
	return (0);
}
