/*
 * <sys/log.h>: the log driver's interface, as SVR5 drivers and loggers
 * include it.  Everything is in <sys/strlog.h>.
 */
#ifndef _SYS_LOG_H
#define	_SYS_LOG_H

#include <sys/strlog.h>

#endif	/* _SYS_LOG_H */
