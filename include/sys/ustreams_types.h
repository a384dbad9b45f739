/*
 * Basic DDI types.
 *
 * SVR5 drivers take uint_t, uchar_t, pl_t, toid_t and friends from
 * <sys/types.h>.  The host's <sys/types.h> does not define them, so every
 * ustreams public header includes this one instead.  The widths follow the
 * SVR5 ILP32 headers where a driver could notice (uchar_t is 8 bits, toid_t
 * and pl_t are ints); clock_t is the host's.
 */
#ifndef _SYS_USTREAMS_TYPES_H
#define	_SYS_USTREAMS_TYPES_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef unsigned char	uchar_t;
typedef unsigned short	ushort_t;
typedef unsigned int	uint_t;
typedef unsigned long	ulong_t;
typedef int		toid_t;		/* timeout identifier; 0 is "none" */
typedef int		pl_t;		/* interrupt priority level */
typedef int		bufcall_id_t;	/* bufcall identifier; 0 is "none" */
typedef uint32_t	major_t;
typedef uint32_t	minor_t;
typedef char		*caddr_t;	/* an address in the caller's space */

#endif	/* _SYS_USTREAMS_TYPES_H */
