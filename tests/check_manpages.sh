#!/bin/sh
#
# check_manpages.sh - every DDI entry point has its man page, and every page
# renders cleanly.
#
# Every function declared "extern" in include/sys/*.h must have a page,
# docs/man/man9/NAME.9 (DDI/DKI) or docs/man/man3/NAME.3 (ustreams library);
# a ".so" stub that points at the page covering it counts.  The headers are
# read as they are when the script runs, so a header added tomorrow is
# checked tomorrow.  Internal functions that the public headers must declare
# but users never call are listed in EXCLUDE.
#
# Every page under docs/man (man3, man7, man9) must then format with no
# groff warning (groff -t -man -Tutf8 -ww -z, run from docs/man so that
# ".so man9/x.9" stubs resolve as they do in an installed tree).  Without
# groff, the rendering check is skipped with a note.
#
# Exit status: 0 when everything is documented and renders cleanly, 1
# otherwise (the missing pages and the warnings are listed), 2 when the
# script cannot run at all.
#
# POSIX sh and awk only.

set -u

EXCLUDE="ustreams_assfail"

cd "$(dirname "$0")/.." || exit 2

MANDIR=docs/man
status=0

set -- include/sys/*.h
if [ ! -e "$1" ]; then
	echo "manpages: no headers in include/sys" >&2
	exit 2
fi

# Print "name header" for every function declared extern in the headers.
# Comments and preprocessor lines are dropped, the rest is cut into
# statements at ';', '{' and '}', and each statement that starts with
# "extern" (but not extern "C") is a declaration.  The declared name is the
# identifier before the first '(', once __attribute__((...)) and friends are
# removed; "extern T (*f)(...)" is a pointer variable and is skipped, while
# "extern T (*f(args))(...)" is a function f returning a pointer.
entry_points() {
	awk '
	function strip_parens(s, kw,    i, j, d, c) {
		while ((i = index(s, kw)) > 0) {
			j = i + length(kw)
			while (substr(s, j, 1) == " ")
				j++
			if (substr(s, j, 1) != "(") {
				s = substr(s, 1, i - 1) " " substr(s, i + length(kw))
				continue
			}
			d = 0
			for (; j <= length(s); j++) {
				c = substr(s, j, 1)
				if (c == "(")
					d++
				else if (c == ")" && --d == 0)
					break
			}
			s = substr(s, 1, i - 1) " " substr(s, j + 1)
		}
		return s
	}
	function declared(stmt,    i, pre, rest, name) {
		gsub(/[ \t]+/, " ", stmt)
		sub(/^ /, "", stmt)
		if (stmt !~ /^extern /)
			return
		if (stmt ~ /^extern "/)
			return
		stmt = strip_parens(stmt, "__attribute__")
		stmt = strip_parens(stmt, "__asm__")
		stmt = strip_parens(stmt, "__declspec")
		if ((i = index(stmt, "(")) == 0)
			return			# a variable
		pre = substr(stmt, 1, i - 1)
		rest = substr(stmt, i + 1)
		if (rest ~ /^ ?\*/) {
			# (*name(args))(...) is a function; (*name)... is not.
			sub(/^ ?\* ?(const )?/, "", rest)
			if (!match(rest, /^[A-Za-z_][A-Za-z0-9_]*/))
				return
			name = substr(rest, 1, RLENGTH)
			rest = substr(rest, RLENGTH + 1)
			if (rest !~ /^ ?\(/)
				return
		} else if (match(rest, /^ ?[A-Za-z_][A-Za-z0-9_]* ?\) ?\(/)) {
			name = substr(rest, 1, RLENGTH)	# extern int (name)(args)
			gsub(/[ ()]/, "", name)
		} else {
			sub(/ $/, "", pre)
			if (!match(pre, /[A-Za-z_][A-Za-z0-9_]*$/))
				return
			name = substr(pre, RSTART, RLENGTH)
		}
		print name, FILENAME
	}
	FNR == 1 { buf = ""; incomment = 0; continued = 0 }
	{
		line = $0
		if (continued) {
			continued = (line ~ /\\$/)
			next
		}
		out = ""
		while (line != "") {
			if (incomment) {
				if ((i = index(line, "*/")) == 0) {
					line = ""
					break
				}
				line = substr(line, i + 2)
				incomment = 0
				continue
			}
			if ((i = index(line, "/*")) == 0) {
				out = out line
				break
			}
			out = out substr(line, 1, i - 1) " "
			line = substr(line, i + 2)
			incomment = 1
		}
		if ((i = index(out, "//")) > 0)
			out = substr(out, 1, i - 1)
		if (out ~ /^[ \t]*#/) {
			continued = (out ~ /\\[ \t]*$/)
			next
		}
		buf = buf " " out
		while (match(buf, /[;{}]/)) {
			declared(substr(buf, 1, RSTART - 1))
			buf = substr(buf, RSTART + 1)
		}
	}
	' "$@"
}

list=$(entry_points "$@" | sort -u -k1,1) || exit 2

total=0
documented=0
missing=""
newline='
'
oldifs=$IFS
IFS=$newline
for entry in $list; do
	IFS=$oldifs
	name=${entry%% *}
	header=${entry#* }
	skip=0
	for x in $EXCLUDE; do
		[ "$name" = "$x" ] && skip=1
	done
	if [ "$skip" = 0 ]; then
		total=$((total + 1))
		if [ -f "$MANDIR/man9/$name.9" ] || [ -f "$MANDIR/man3/$name.3" ]
		then
			documented=$((documented + 1))
		else
			missing="$missing  $name ($header)$newline"
		fi
	fi
	IFS=$newline
done
IFS=$oldifs

if [ -n "$missing" ]; then
	echo "manpages: no page in $MANDIR/man9 or $MANDIR/man3 for:"
	printf '%s' "$missing"
	status=1
fi

# Rendering.
pages=0
bad=0
if command -v groff >/dev/null 2>&1; then
	for page in "$MANDIR"/man9/*.9 "$MANDIR"/man3/*.3 "$MANDIR"/man7/*.7; do
		[ -f "$page" ] || continue
		pages=$((pages + 1))
		rel=${page#"$MANDIR"/}
		warnings=$(cd "$MANDIR" && LC_ALL=C groff -t -man -Tutf8 -ww \
		    -z "$rel" 2>&1)
		if [ -n "$warnings" ]; then
			bad=$((bad + 1))
			echo "manpages: $page does not render cleanly:"
			printf '%s\n' "$warnings" | sed 's/^/  /'
			status=1
		fi
	done
	render="$pages pages, $bad with groff warnings"
else
	render="rendering not checked (groff not installed)"
fi

echo "manpages: $total entry points, $documented documented; $render"
exit $status
