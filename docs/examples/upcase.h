/*
 * upcase - what an application needs to use the upcase module: its name,
 * its ioctl commands and the structure UPCASE_GETSTATS returns.  The
 * module itself is upcase.c; docs/guide.md walks through both.
 */
#ifndef _UPCASE_H
#define	_UPCASE_H

#define	UPCASE_NAME	"upcase"	/* the name to I_PUSH */
#define	UPCASE_ID	0x5543		/* mi_idnum */

/*
 * I_STR commands.
 *
 * UPCASE_SETMODE   ic_dp points at an int, the new mode (UPCASE_OFF,
 *                  UPCASE_UPPER, UPCASE_LOWER), ic_len is sizeof (int).
 *                  Returns the previous mode.  Data written before the
 *                  ioctl is converted in the previous mode.
 * UPCASE_GETSTATS  ic_dp points at a struct upcase_stats, ic_len is its
 *                  size; on return it holds the instance's counters.
 */
#define	UPCASE_IOC		('U' << 8)
#define	UPCASE_SETMODE		(UPCASE_IOC | 1)
#define	UPCASE_GETSTATS		(UPCASE_IOC | 2)

#define	UPCASE_OFF		0	/* pass data unchanged */
#define	UPCASE_UPPER		1	/* a-z to A-Z (the mode after I_PUSH) */
#define	UPCASE_LOWER		2	/* A-Z to a-z */

struct upcase_stats {
	unsigned long	us_msgs;	/* data messages passed down */
	unsigned long	us_bytes;	/* data bytes passed down */
	unsigned long	us_copies;	/* shared messages copied first */
};

struct streamtab;
extern struct streamtab upcase_info;

/* Register the module with the running process (see upcase.c). */
extern int upcase_register(void);

#endif	/* _UPCASE_H */
