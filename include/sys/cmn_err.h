/*
 * cmn_err(D3): the kernel's message and panic interface.
 */
#ifndef _SYS_CMN_ERR_H
#define	_SYS_CMN_ERR_H

#include <stdarg.h>

#ifdef	__cplusplus
extern "C" {
#endif

#define	CE_CONT		0	/* continuation: no prefix, no newline */
#define	CE_NOTE		1	/* "NOTICE: " */
#define	CE_WARN		2	/* "WARNING: " */
#define	CE_PANIC	3	/* "PANIC: ", then the panic hook or abort() */

extern void cmn_err(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
extern void vcmn_err(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#ifdef	__cplusplus
}
#endif

#endif	/* _SYS_CMN_ERR_H */
