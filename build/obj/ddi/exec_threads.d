build/obj/ddi/exec_threads.o: ddi/exec_threads.c include/sys/ustreams.h \
 include/sys/ustreams_types.h include/sys/cmn_err.h include/sys/debug.h \
 include/sys/kmem.h ddi/context.h ddi/exec.h
include/sys/ustreams.h:
include/sys/ustreams_types.h:
include/sys/cmn_err.h:
include/sys/debug.h:
include/sys/kmem.h:
ddi/context.h:
ddi/exec.h:
