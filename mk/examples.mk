# The module writer's guide's example (docs/examples): the upcase module
# and its test, built like the tests and run by "make test" with them.
# Included by mk/build.mk.
#
# The test uses the public API only (no tests/harness.c), as a module
# writer's own test would.  docs/examples/check_guide.sh checks, before
# the tests run, that every piece of the example that docs/guide.md quotes
# is still in the example, word for word.

EXAMPLE_SRCS = docs/examples/upcase.c
EXAMPLE_OBJS = $(EXAMPLE_SRCS:%.c=$(B)/obj/%.o)
EXAMPLE_TEST = $(B)/tests/example_upcase
EXAMPLE_TEST_OBJ = $(B)/obj/tests/example_upcase.o
EXAMPLE_STAMP = $(B)/obj/docs/guide-quotes.ok

$(EXAMPLE_TEST_OBJ): docs/examples/test_upcase.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) $(DEPFLAGS) -c $< -o $@

# An explicit rule: no test harness in this one.
$(EXAMPLE_TEST): $(EXAMPLE_TEST_OBJ) $(EXAMPLE_OBJS) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(VLDFLAGS) -o $@ $(EXAMPLE_TEST_OBJ) $(EXAMPLE_OBJS) \
		-Wl,--whole-archive $(LIBA) -Wl,--no-whole-archive \
		$(CHECK_LIBS) $(LDLIBS_ALL)

$(EXAMPLE_STAMP): docs/guide.md docs/examples/check_guide.sh \
		docs/examples/upcase.c docs/examples/upcase.h \
		docs/examples/test_upcase.c
	@mkdir -p $(@D)
	sh docs/examples/check_guide.sh
	@touch $@

.PHONY: examples
examples: $(EXAMPLE_TEST) $(EXAMPLE_STAMP)

tests: examples
TEST_BINS += $(EXAMPLE_TEST)

-include $(EXAMPLE_OBJS:.o=.d)
