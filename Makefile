# ustreams - top-level Makefile (GNU make).
#
#   make            libustreams.a/.so and the tools, into build/
#   make check      install missing dependencies, then build and run every
#                   test: optimised, AddressSanitizer+UBSan, ThreadSanitizer,
#                   and the optimised build again under valgrind's memcheck
#   make bench      the benchmarks (installs DPDK for its column when it can)
#   make demo       the main job
#   make install    PREFIX=/usr/local DESTDIR=
#
# The real rules are in mk/build.mk, run once per build variant (V=release,
# asan, tsan, debug) into build/ or build/$(V)/.  This file makes sure the
# dependencies are there first, so that pkg-config is asked only after an
# install.

SUBMAKE = $(MAKE) --no-print-directory -f mk/build.mk
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps check check-release check-asan check-tsan check-memcheck \
	bench demo install clean

all: deps
	@$(SUBMAKE) V=release all

deps:
	@sh mk/deps.sh

check:
	@sh mk/deps.sh check
	@$(SUBMAKE) V=release test
	@$(SUBMAKE) V=asan test
	@$(SUBMAKE) V=tsan test
	@$(SUBMAKE) V=release memcheck
	@sh tests/check_manpages.sh
	@sh tests/check_install.sh
	@echo "make check: all variants passed"

check-release check-asan check-tsan: deps
	@$(SUBMAKE) V=$(@:check-%=%) test

check-memcheck:
	@sh mk/deps.sh check
	@$(SUBMAKE) V=release memcheck

bench:
	@sh mk/deps.sh bench
	@$(SUBMAKE) V=release bench

demo: deps
	@$(SUBMAKE) V=release demo

install: deps
	@$(SUBMAKE) V=release install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

clean:
	rm -rf build
