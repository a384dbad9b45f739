build/obj/ddi/drv.o: ddi/drv.c include/sys/ddi.h \
 include/sys/ustreams_types.h include/sys/debug.h include/sys/cmn_err.h \
 include/sys/kmem.h include/sys/ksynch.h ddi/exec.h \
 include/sys/ustreams.h
include/sys/ddi.h:
include/sys/ustreams_types.h:
include/sys/debug.h:
include/sys/cmn_err.h:
include/sys/kmem.h:
include/sys/ksynch.h:
ddi/exec.h:
include/sys/ustreams.h:
