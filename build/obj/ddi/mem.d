build/obj/ddi/mem.o: ddi/mem.c include/sys/ustreams.h \
 include/sys/ustreams_types.h include/sys/cmn_err.h include/sys/debug.h \
 include/sys/ksynch.h ddi/mem.h ddi/ksynch_impl.h ddi/sysinit.h
include/sys/ustreams.h:
include/sys/ustreams_types.h:
include/sys/cmn_err.h:
include/sys/debug.h:
include/sys/ksynch.h:
ddi/mem.h:
ddi/ksynch_impl.h:
ddi/sysinit.h:
