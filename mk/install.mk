# make install PREFIX=/usr/local DESTDIR=
#
# The library (static and shared, versioned soname), the SVR4-named headers
# under $(includedir)/ustreams/sys/ (so that <sys/stream.h> means ours only
# for code built with `pkg-config --cflags ustreams`), ustreams.pc, the man
# pages and the tools.

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR = $(DESTDIR)$(PREFIX)/lib
INCDIR = $(DESTDIR)$(PREFIX)/include/ustreams/sys
PCDIR = $(LIBDIR)/pkgconfig
MANDIR = $(DESTDIR)$(PREFIX)/share/man
BINDIR = $(DESTDIR)$(PREFIX)/bin

.PHONY: install
install: all
	install -d $(LIBDIR) $(INCDIR) $(PCDIR) $(BINDIR) \
		$(MANDIR)/man3 $(MANDIR)/man7 $(MANDIR)/man9
	install -m 644 $(LIBA) $(LIBDIR)/
	install -m 755 $(LIBSO) $(LIBDIR)/
	ln -sf libustreams.so.$(VERSION) $(LIBDIR)/libustreams.so.$(SOMAJOR)
	ln -sf libustreams.so.$(SOMAJOR) $(LIBDIR)/libustreams.so
	install -m 644 include/sys/*.h $(INCDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
		mk/ustreams.pc.in > $(PCDIR)/ustreams.pc
	install -m 644 docs/man/man3/*.3 $(MANDIR)/man3/
	install -m 644 docs/man/man7/*.7 $(MANDIR)/man7/
	install -m 644 docs/man/man9/*.9 $(MANDIR)/man9/
	for t in $(TOOL_NAMES); do \
		install -m 755 $(B)/bin/$$t $(BINDIR)/ustreams-$$t; \
	done
