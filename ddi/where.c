/*
 * Naming a code address: where a block was freed, where a bad call came
 * from.
 *
 * A misuse report that gives a bare address leaves the user to find the
 * load address of the program or library it falls in before addr2line can
 * say anything (executables are position-independent); dladdr knows only
 * exported symbols, and the code a report is about -- a driver's static
 * functions, a test -- seldom is.  elfutils' libdwfl does what addr2line
 * does, in the process: it maps the address to its module, the module's
 * symbol table gives the function, and the DWARF line table, when the
 * code was built with -g, the file and line.
 *
 * One Dwfl session describes the process's modules, made on the first
 * report and made again when an address falls outside every module it
 * knows (a library loaded since).  where_lock serialises its use: libdwfl
 * sessions are not safe for concurrent use.  It lives for the process,
 * or the library: a destructor ends it, so leak checkers find nothing.
 */
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "where.h"

static pthread_mutex_t where_lock = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *where_dwfl;		/* where_lock */

static char *debuginfo_path;		/* libdwfl's default search */

static const Dwfl_Callbacks where_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static void __attribute__((destructor))
where_end(void)
{
	pthread_mutex_lock(&where_lock);
	if (where_dwfl != NULL)
		dwfl_end(where_dwfl);
	where_dwfl = NULL;
	pthread_mutex_unlock(&where_lock);
}

/* A session describing the process's modules as they are now, or NULL. */
static Dwfl *
where_session(void)
{
	Dwfl *dwfl = dwfl_begin(&where_callbacks);

	if (dwfl == NULL)
		return (NULL);
	if (dwfl_linux_proc_report(dwfl, getpid()) != 0 ||
	    dwfl_report_end(dwfl, NULL, NULL) != 0) {
		dwfl_end(dwfl);
		return (NULL);
	}
	return (dwfl);
}

/* The module holding addr, remaking the session once if none does. */
static Dwfl_Module *
where_module(Dwarf_Addr addr)
{
	Dwfl_Module *mod = NULL;

	if (where_dwfl != NULL)
		mod = dwfl_addrmodule(where_dwfl, addr);
	if (mod == NULL) {
		if (where_dwfl != NULL)
			dwfl_end(where_dwfl);
		if ((where_dwfl = where_session()) == NULL)
			return (NULL);
		mod = dwfl_addrmodule(where_dwfl, addr);
	}
	return (mod);
}

const char *
ust_where(const void *pc, char *buf, size_t len)
{
	/*
	 * A return address follows the call; the call itself, one byte
	 * back, is what belongs to the caller's function and line (a call
	 * to a function that does not return may be the last instruction).
	 */
	Dwarf_Addr addr = (Dwarf_Addr)(uintptr_t)pc, call = addr - 1;
	Dwfl_Module *mod;
	GElf_Off off;
	GElf_Sym sym;
	const char *name, *file;
	Dwfl_Line *line;
	int lineno;

	if (pc == NULL) {
		(void) snprintf(buf, len, "(never)");
		return (buf);
	}
	pthread_mutex_lock(&where_lock);
	if ((mod = where_module(call)) == NULL) {
		(void) snprintf(buf, len, "%p", pc);
	} else if ((name = dwfl_module_addrinfo(mod, call, &off, &sym, NULL,
	    NULL, NULL)) != NULL) {
		off += addr - call;
		if ((line = dwfl_module_getsrc(mod, call)) != NULL &&
		    (file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL,
		    NULL)) != NULL)
			(void) snprintf(buf, len, "%s+0x%llx (%s:%d)", name,
			    (unsigned long long)off, file, lineno);
		else
			(void) snprintf(buf, len, "%s+0x%llx", name,
			    (unsigned long long)off);
	} else {
		Dwarf_Addr bias = 0;
		const char *obj = dwfl_module_info(mod, NULL, NULL, NULL, NULL,
		    NULL, NULL, NULL);

		(void) dwfl_module_getelf(mod, &bias);
		(void) snprintf(buf, len, "%s+0x%llx", obj != NULL ? obj : "?",
		    (unsigned long long)(addr - bias));
	}
	pthread_mutex_unlock(&where_lock);
	return (buf);
}
