#!/bin/bash
# The oracle's vfio-probe (../shared/oracle/vfio-probe.c), compiled
# unmodified, run through `iommu run` on every capture that holds its
# output (vfio/group-N.txt): with the devices the capture bound to
# vfio-pci, in its bind order (vfio.txt), it must print what the real
# kernel printed, byte for byte, and write the same VFIO-virtualised
# config space (vfio/BDF.vfio-config).  The oracle linked it -static; a
# static binary cannot be preloaded, so it is built dynamically here.
# TAP output.
set -u
BIN=${IOMMU_BIN:?IOMMU_BIN not set}
CAPS=${IOMMU_CAPTURES:?IOMMU_CAPTURES not set}
SHARED=${IOMMU_SHARED:-}
SRC="$SHARED/oracle/vfio-probe.c"
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

if [ -z "$SHARED" ] || [ ! -f "$SRC" ]; then
	echo "1..0 # SKIP ../shared/oracle/vfio-probe.c not found (IOMMU_SHARED)"
	exit 0
fi
CC=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! $CC -O2 -o "$work/vfio-probe" "$SRC" 2>"$work/cc.err"; then
	echo "1..0 # SKIP cannot compile vfio-probe.c: $(head -1 "$work/cc.err")"
	exit 0
fi
# vfio-probe's own allocations are never freed (it is the oracle's
# program, not ours): no leak report for them.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# The statically linked build is refused with the reason.
if $CC -O2 -static -o "$work/vfio-probe-static" "$SRC" 2>/dev/null; then
	out=$("$BIN" run --builtin intel-server -- "$work/vfio-probe-static" 0 "$work" 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && echo "$out" | grep -q "statically linked"; then
		ok "a statically linked vfio-probe is refused (exit 2, LD_PRELOAD cannot reach it)"
	else
		not_ok "static vfio-probe: exit $rc: $out"
	fi
fi

for cap in "$CAPS"/*/; do
	cap=${cap%/}
	name=$(basename "$cap")
	[ -f "$cap/vfio.txt" ] || continue
	ls "$cap"/vfio/group-*.txt >/dev/null 2>&1 || continue
	binds=$(awk '/^bind /{print $2}' "$cap/vfio.txt" | paste -sd, -)
	for want in "$cap"/vfio/group-*.txt; do
		g=$(basename "$want" .txt)
		g=${g#group-}
		out="$work/$name-$g"
		mkdir -p "$out"
		"$BIN" run --log none --snapshot "$cap" --vfio "$binds" -- "$work/vfio-probe" "$g" "$out" \
			>"$out/stdout" 2>"$out/stderr"
		rc=$?
		if [ $rc -ne 0 ]; then
			not_ok "$name group $g: exit $rc: $(head -3 "$out/stderr")"
			continue
		fi
		if cmp -s "$out/stdout" "$want"; then
			ok "$name group $g: vfio-probe prints what the kernel printed ($(wc -l <"$want") lines)"
		else
			not_ok "$name group $g: vfio-probe output differs"
			diff "$want" "$out/stdout" | sed 's/^/# /' | head -20
		fi
		for cfg in "$out"/*.vfio-config; do
			[ -e "$cfg" ] || continue
			b=$(basename "$cfg")
			if [ ! -f "$cap/vfio/$b" ]; then
				continue        # the capture kept no copy (6.12 AMD)
			fi
			if cmp -s "$cfg" "$cap/vfio/$b"; then
				ok "$name $b: the VFIO-virtualised config space is the kernel's"
			else
				not_ok "$name $b differs from the kernel's"
				cmp -l "$cfg" "$cap/vfio/$b" | head -5 | sed 's/^/# /'
			fi
		done
	done
done
echo "1..$n"
[ $fail -eq 0 ]
