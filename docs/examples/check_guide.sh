#!/bin/sh
#
# check_guide.sh - the module writer's guide quotes its example word for
# word.
#
# docs/guide.md quotes the example's source in fenced code blocks, each
# right after a line
#
#	<!-- quote: PATH -->
#
# where PATH is the quoted file, relative to the top of the tree.  Every
# such block must appear in PATH as it stands, line for line, as
# consecutive lines; so a change to the example that the guide does not
# follow fails the build instead of leaving the guide quietly wrong.
#
# Exit status: 0 when every quote is found, 1 otherwise (each one that is
# not is named, with its line in the guide), 2 when the script cannot
# run.  POSIX sh and awk only.

set -u

cd "$(dirname "$0")/../.." || exit 2

GUIDE=docs/guide.md
if [ ! -f "$GUIDE" ]; then
	echo "check_guide: no $GUIDE" >&2
	exit 2
fi

awk '
# Is the block q[1..nq] in file path, as consecutive lines?
function found(path,    n, line, i, j, ok) {
	n = 0
	split("", src)
	while ((getline line < path) > 0)
		src[++n] = line
	close(path)
	if (n == 0)
		return (-1)
	for (i = 1; i + nq - 1 <= n; i++) {
		ok = 1
		for (j = 1; j <= nq; j++) {
			if (src[i + j - 1] != q[j]) {
				ok = 0
				break
			}
		}
		if (ok)
			return (1)
	}
	return (0)
}
BEGIN { quotes = 0; bad = 0; want = 0; inq = 0 }
inq && /^```[ \t]*$/ {
	inq = 0
	quotes++
	r = found(path)
	if (r < 0) {
		printf("check_guide: %s:%d: cannot read %s\n", FILENAME, qline, path)
		bad++
	} else if (r == 0) {
		printf("check_guide: %s:%d: this quote is not in %s " \
		    "word for word\n", FILENAME, qline, path)
		bad++
	}
	next
}
inq { q[++nq] = $0; next }
want {
	want = 0
	if ($0 ~ /^```/) {
		inq = 1
		nq = 0
		qline = FNR
		next
	}
	printf("check_guide: %s:%d: a quote marker not followed by a " \
	    "code block\n", FILENAME, FNR - 1)
	bad++
}
/^<!-- quote: [^ ]+ -->[ \t]*$/ { path = $3; want = 1; next }
END {
	if (inq) {
		printf("check_guide: %s:%d: a quote is not closed\n", FILENAME, qline)
		bad++
	}
	if (quotes == 0) {
		printf("check_guide: %s quotes nothing\n", FILENAME)
		bad++
	}
	if (bad > 0)
		exit 1
	printf("check_guide: %d quotes, each word for word\n", quotes)
}
' "$GUIDE"
