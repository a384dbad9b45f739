build/obj/ddi/context.o: ddi/context.c include/sys/ustreams.h \
 include/sys/ustreams_types.h include/sys/cmn_err.h include/sys/ddi.h \
 include/sys/debug.h include/sys/kmem.h include/sys/ksynch.h \
 ddi/context.h
include/sys/ustreams.h:
include/sys/ustreams_types.h:
include/sys/cmn_err.h:
include/sys/ddi.h:
include/sys/debug.h:
include/sys/kmem.h:
include/sys/ksynch.h:
ddi/context.h:
