build/obj/ddi/boot.o: ddi/boot.c include/sys/ustreams.h \
 include/sys/ustreams_types.h include/sys/cmn_err.h include/sys/debug.h \
 ddi/sysinit.h
include/sys/ustreams.h:
include/sys/ustreams_types.h:
include/sys/cmn_err.h:
include/sys/debug.h:
ddi/sysinit.h:
