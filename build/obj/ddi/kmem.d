build/obj/ddi/kmem.o: ddi/kmem.c include/sys/kmem.h \
 include/sys/ustreams_types.h include/sys/cmn_err.h include/sys/debug.h \
 include/sys/ustreams.h ddi/context.h ddi/mem.h
include/sys/kmem.h:
include/sys/ustreams_types.h:
include/sys/cmn_err.h:
include/sys/debug.h:
include/sys/ustreams.h:
ddi/context.h:
ddi/mem.h:
