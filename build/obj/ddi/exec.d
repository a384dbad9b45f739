build/obj/ddi/exec.o: ddi/exec.c include/sys/ustreams.h \
 include/sys/ustreams_types.h include/sys/cmn_err.h include/sys/debug.h \
 ddi/context.h ddi/exec.h ddi/sysinit.h
include/sys/ustreams.h:
include/sys/ustreams_types.h:
include/sys/cmn_err.h:
include/sys/debug.h:
ddi/context.h:
ddi/exec.h:
ddi/sysinit.h:
