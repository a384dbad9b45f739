/*
 * Naming a code address for a misuse report (private side).
 */
#ifndef _DDI_WHERE_H
#define	_DDI_WHERE_H

#include <stddef.h>

/*
 * ust_where - pc as a reader of a panic message can use it.  pc is a
 * return address (what __builtin_return_address gives: the instruction
 * after a call), or NULL.  Writes into buf (len bytes) and returns it:
 *
 *	"function+0x1d (tests/test_mblk.c:553)"	symbol and line known
 *	"function+0x1d"				no debugging information
 *	"libfoo.so+0x4a1d"			no symbol: an offset in the
 *						object, for addr2line -e
 *	"0x7f..."				not in any loaded object
 *	"(never)"				NULL
 *
 * Static functions are named too: the symbol table is read, not only the
 * dynamic one.  Slow (it may read ELF files): for reports, never for a
 * fast path.  Any context; takes a lock of its own.
 */
extern const char *ust_where(const void *pc, char *buf, size_t len);

/* Long enough for ust_where's answer about any address. */
#define	UST_WHERE_LEN	256

#endif	/* _DDI_WHERE_H */
