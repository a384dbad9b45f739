build/obj/ddi/cmn_err.o: ddi/cmn_err.c include/sys/cmn_err.h \
 include/sys/debug.h include/sys/ustreams.h include/sys/ustreams_types.h
include/sys/cmn_err.h:
include/sys/debug.h:
include/sys/ustreams.h:
include/sys/ustreams_types.h:
