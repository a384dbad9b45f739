build/obj/ddi/ksynch.o: ddi/ksynch.c include/sys/ksynch.h \
 include/sys/ustreams_types.h include/sys/cmn_err.h include/sys/debug.h \
 include/sys/kmem.h ddi/context.h include/sys/ustreams.h ddi/exec.h \
 ddi/ksynch_impl.h
include/sys/ksynch.h:
include/sys/ustreams_types.h:
include/sys/cmn_err.h:
include/sys/debug.h:
include/sys/kmem.h:
ddi/context.h:
include/sys/ustreams.h:
ddi/exec.h:
ddi/ksynch_impl.h:
