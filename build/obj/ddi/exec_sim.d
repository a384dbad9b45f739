build/obj/ddi/exec_sim.o: ddi/exec_sim.c include/sys/ustreams.h \
 include/sys/ustreams_types.h include/sys/cmn_err.h include/sys/debug.h \
 ddi/context.h ddi/exec.h
include/sys/ustreams.h:
include/sys/ustreams_types.h:
include/sys/cmn_err.h:
include/sys/debug.h:
ddi/context.h:
ddi/exec.h:
