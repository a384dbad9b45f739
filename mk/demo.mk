# make demo: the main job (until the testbench lands): boot an instance,
# allocate at each priority until refused, free, print the counters.
.PHONY: demo
demo: $(B)/bin/demo
	$(B)/bin/demo
