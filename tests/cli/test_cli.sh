#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The iommu command against the captures of the real kernel (TAP output).
#
#  - For every capture in $IOMMU_CAPTURES: 'iommu devices --snapshot DIR
#    --tree' must equal the capture's lspci-tree.txt (real 'lspci -tvnn',
#    pciutils 3.9 in the guest) byte for byte, and '--json' must parse, with
#    the documented fields and types for every function, the same functions
#    as the capture's pci/ directories and the ids the kernel put in sysfs.
#  - Exit statuses and error handling of the command line.
#  - 'iommu snapshot' of a built-in platform reads back the same.
#
# Environment: IOMMU_BIN (the iommu binary), IOMMU_CAPTURES (tests/captures).
# The plan ("1..N") is printed at the end, since the number of captures is
# only known at run time.

set -u

BIN=${IOMMU_BIN:-}
CAPTURES=${IOMMU_CAPTURES:-}
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/# /'
	done
}

skip_test() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# check NAME CONDITION-STATUS [DIAGNOSTIC...]
check() {
	local name=$1 status=$2
	shift 2
	if [ "$status" -eq 0 ]; then ok "$name"; else not_ok "$name" "$@"; fi
}

if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
	echo "1..0 # SKIP IOMMU_BIN is not set or not executable"
	exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/iommu-cli-test.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

PYTHON=$(command -v python3 || true)

# run CMD...: runs the command with stdout in $TMP/out, stderr in $TMP/err,
# and its exit status in $rc.
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

# ------------------------------------------------------------------
# (a), (b): every capture

# Checks one 'devices --json' output: $1 the JSON file, $2 the capture.
JSON_CHECK='
import json, os, sys

path, capture = sys.argv[1], sys.argv[2]
errors = []
try:
    with open(path) as f:
        doc = json.load(f)
except ValueError as e:
    print("output is not JSON: %s" % e)
    sys.exit(1)

devices = doc.get("devices") if isinstance(doc, dict) else None
if not isinstance(devices, list):
    print("no \"devices\" array")
    sys.exit(1)

def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)

fields = ["vendor", "device", "class", "header_type", "pcie_type", "acs_cap",
          "acs_ctrl", "secondary_bus", "subordinate_bus"]
for i, d in enumerate(devices):
    if not isinstance(d, dict):
        errors.append("devices[%d] is not an object" % i)
        continue
    bdf = d.get("bdf")
    if not isinstance(bdf, str):
        errors.append("devices[%d]: bdf %r is not a string" % (i, bdf))
        bdf = "devices[%d]" % i
    for k in fields:
        if k not in d:
            errors.append("%s: no field %s" % (bdf, k))
        elif not (d[k] is None or is_int(d[k])):
            errors.append("%s: %s = %r is neither an integer nor null" % (bdf, k, d[k]))
    for k in ["vendor", "device", "class", "header_type"]:
        if k in d and d[k] is None:
            errors.append("%s: %s is null" % (bdf, k))
    # Bus numbers are there exactly for bridges (header types 1 and 2).
    if d.get("header_type") in (0, 1, 2):
        bridge = d["header_type"] != 0
        for k in ["secondary_bus", "subordinate_bus"]:
            if k in d and (d[k] is not None) != bridge:
                errors.append("%s: %s = %r for header type %d" % (bdf, k, d[k], d["header_type"]))
    if ("acs_cap" in d and "acs_ctrl" in d and
            (d["acs_cap"] is None) != (d["acs_ctrl"] is None)):
        errors.append("%s: acs_cap and acs_ctrl are not both null or both set" % bdf)
    # The ids the kernel put in sysfs (for SR-IOV VFs, the PF'"'"'s ids).
    for k, attr in [("vendor", "vendor"), ("device", "device"), ("class", "class")]:
        try:
            with open(os.path.join(capture, "pci", str(bdf), attr)) as f:
                want = int(f.read().strip(), 16)
        except (OSError, ValueError):
            continue
        if is_int(d.get(k)) and d[k] != want:
            errors.append("%s: %s = %#x but pci/%s/%s says %#x" % (bdf, k, d[k], bdf, attr, want))

ours = [d.get("bdf") for d in devices if isinstance(d, dict)]
theirs = sorted(e for e in os.listdir(os.path.join(capture, "pci"))
                if os.path.isdir(os.path.join(capture, "pci", e)))
if ours != theirs:
    errors.append("functions differ from pci/: only ours %s, only pci/ %s, order %s"
                  % (sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours)),
                     "same" if sorted(ours) == ours else "not sorted"))
for e in errors[:40]:
    print(e)
if len(errors) > 40:
    print("... and %d more" % (len(errors) - 40))
sys.exit(1 if errors else 0)
'

ncaptures=0
if [ -n "$CAPTURES" ] && [ -d "$CAPTURES" ]; then
	for dir in "$CAPTURES"/*/; do
		dir=${dir%/}
		[ -d "$dir/pci" ] || continue
		name=${dir##*/}
		ncaptures=$((ncaptures + 1))

		# (a) the tree, byte for byte
		if [ ! -f "$dir/lspci-tree.txt" ]; then
			not_ok "$name: devices --tree equals lspci-tree.txt" "no lspci-tree.txt in $dir"
		else
			run "$BIN" devices --snapshot "$dir" --tree
			if [ "$rc" -ne 0 ]; then
				not_ok "$name: devices --tree equals lspci-tree.txt" "exit status $rc" \
					"$(head -5 "$TMP/err")"
			elif cmp -s "$TMP/out" "$dir/lspci-tree.txt"; then
				ok "$name: devices --tree equals lspci-tree.txt"
			else
				not_ok "$name: devices --tree equals lspci-tree.txt" \
					"$(diff -u "$dir/lspci-tree.txt" "$TMP/out" | head -40)"
			fi
		fi

		# (b) JSON
		if [ -z "$PYTHON" ]; then
			skip_test "$name: devices --json" "python3 not found"
			continue
		fi
		run "$BIN" devices --snapshot "$dir" --json
		if [ "$rc" -ne 0 ]; then
			not_ok "$name: devices --json" "exit status $rc" "$(head -5 "$TMP/err")"
			continue
		fi
		msg=$("$PYTHON" -c "$JSON_CHECK" "$TMP/out" "$dir" 2>&1)
		check "$name: devices --json fields, types and functions" $? "$msg"
	done
fi
if [ "$ncaptures" -ge 20 ]; then
	ok "at least 20 captures checked ($ncaptures)"
else
	not_ok "at least 20 captures checked" "found $ncaptures under '${CAPTURES:-(IOMMU_CAPTURES unset)}'"
fi

# ------------------------------------------------------------------
# (c) exit statuses and errors

# expect_status NAME WANT CMD...
expect_status() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$want" ]; then
		ok "$name (exit $want)"
	else
		not_ok "$name (exit $want)" "got exit $rc" "$(head -5 "$TMP/err")"
	fi
}

# expect_error NAME WANT CMD...: exit status WANT and a message on stderr.
expect_error() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$want" ] && [ -s "$TMP/err" ]; then
		ok "$name (exit $want, with a message)"
	else
		not_ok "$name (exit $want, with a message)" "got exit $rc, stderr:" "$(head -5 "$TMP/err")"
	fi
}

expect_error "no arguments" 2 "$BIN"
expect_error "unknown command" 2 "$BIN" nosuchcommand
expect_error "unknown option" 2 "$BIN" devices --nosuchoption
expect_error "unknown option of snapshot" 2 "$BIN" snapshot --nosuchoption "$TMP/never"
expect_error "unknown option of platforms" 2 "$BIN" platforms --nosuchoption
expect_error "two platform options" 2 "$BIN" devices --builtin intel-server --snapshot "$TMP"
expect_error "--snapshot of a missing directory" 3 "$BIN" devices --snapshot "$TMP/does-not-exist"
expect_error "--builtin nosuch" 3 "$BIN" devices --builtin nosuch

mkdir -p "$TMP/fake-sys"
expect_error "--host --sysfs without bus/pci/devices" 3 \
	"$BIN" devices --host --sysfs "$TMP/fake-sys"

# --help: exit 0 and the options of each command are mentioned.
# expect_help NAME CMD... -- WORD...
expect_help() {
	local name=$1 cmd=() missing=() w
	shift
	while [ "$1" != "--" ]; do
		cmd+=("$1")
		shift
	done
	shift
	run "${cmd[@]}"
	for w in "$@"; do
		grep -qF -e "$w" "$TMP/out" || missing+=("$w")
	done
	if [ "$rc" -eq 0 ] && [ ${#missing[@]} -eq 0 ]; then
		ok "$name (exit 0, mentions $*)"
	else
		not_ok "$name (exit 0, mentions $*)" "exit $rc; missing from stdout: ${missing[*]:-}"
	fi
}

expect_help "iommu --help" "$BIN" --help -- \
	devices snapshot platforms --snapshot --builtin --host --sysfs --procfs
expect_help "iommu help devices" "$BIN" help devices -- --tree --json --snapshot
expect_help "iommu devices --help" "$BIN" devices --help -- \
	--tree --json --snapshot --builtin --host --sysfs --procfs
expect_help "iommu snapshot --help" "$BIN" snapshot --help -- \
	OUTDIR --snapshot --builtin --host --sysfs --procfs
expect_help "iommu platforms --help" "$BIN" platforms --help -- --json

# iommu snapshot of the built-in platform, read back.
snap="$TMP/snap-intel"
run "$BIN" snapshot --builtin intel-server "$snap"
check "snapshot --builtin intel-server writes a snapshot (exit 0)" "$rc" \
	"exit $rc" "$(head -5 "$TMP/err")"
if [ "$rc" -eq 0 ]; then
	"$BIN" devices --builtin intel-server >"$TMP/builtin.txt" 2>"$TMP/err1"
	rc1=$?
	"$BIN" devices --snapshot "$snap" >"$TMP/snap.txt" 2>"$TMP/err2"
	rc2=$?
	if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && [ -s "$TMP/snap.txt" ] &&
	   cmp -s "$TMP/builtin.txt" "$TMP/snap.txt"; then
		ok "devices of the written snapshot equals devices --builtin intel-server"
	else
		not_ok "devices of the written snapshot equals devices --builtin intel-server" \
			"exit $rc1 / $rc2" "$(diff -u "$TMP/builtin.txt" "$TMP/snap.txt" | head -40)"
	fi
	"$BIN" devices --builtin intel-server --tree >"$TMP/builtin-tree.txt" 2>/dev/null
	"$BIN" devices --snapshot "$snap" --tree >"$TMP/snap-tree.txt" 2>/dev/null
	cmp -s "$TMP/builtin-tree.txt" "$TMP/snap-tree.txt"
	check "devices --tree of the written snapshot equals the built-in's" $? \
		"$(diff -u "$TMP/builtin-tree.txt" "$TMP/snap-tree.txt" | head -40)"
else
	not_ok "devices of the written snapshot equals devices --builtin intel-server" "no snapshot"
	not_ok "devices --tree of the written snapshot equals the built-in's" "no snapshot"
fi

# Writing into a directory that is not empty fails and says why, and
# leaves what was there alone.
mkdir -p "$TMP/nonempty"
echo keep >"$TMP/nonempty/precious"
run "$BIN" snapshot --builtin intel-server "$TMP/nonempty"
if [ "$rc" -ne 0 ] && [ -s "$TMP/err" ] && [ "$(ls -A "$TMP/nonempty")" = precious ] &&
   [ "$(cat "$TMP/nonempty/precious")" = keep ]; then
	ok "snapshot into a non-empty directory fails with a message (exit $rc)"
else
	not_ok "snapshot into a non-empty directory fails with a message" "exit $rc" \
		"stderr: $(head -3 "$TMP/err")" "directory now holds: $(ls -A "$TMP/nonempty" | head -5)"
fi

# ------------------------------------------------------------------
# (d) built-in platforms

run "$BIN" platforms
if [ "$rc" -eq 0 ] && grep -q '^intel-server\b' "$TMP/out" && grep -q '^amd-server\b' "$TMP/out"; then
	ok "platforms lists intel-server and amd-server"
else
	not_ok "platforms lists intel-server and amd-server" "exit $rc" "$(cat "$TMP/out")"
fi

run "$BIN" devices
if [ "$rc" -eq 0 ] && [ -s "$TMP/out" ]; then
	ok "devices without a platform option runs on the default built-in (exit 0)"
else
	not_ok "devices without a platform option runs on the default built-in (exit 0)" \
		"exit $rc" "$(head -5 "$TMP/err")"
fi
# ... and that default is the built-in named first by 'iommu platforms'.
dflt=$("$BIN" platforms 2>/dev/null | awk 'NR == 1 { print $1 }')
if [ -n "$dflt" ]; then
	"$BIN" devices --builtin "$dflt" >"$TMP/dflt.txt" 2>/dev/null
	cmp -s "$TMP/out" "$TMP/dflt.txt"
	check "devices without a platform option equals devices --builtin $dflt" $? \
		"$(diff -u "$TMP/dflt.txt" "$TMP/out" | head -20)"
else
	not_ok "devices without a platform option equals the first built-in" "platforms printed nothing"
fi

for b in intel-server amd-server; do
	expect_status "devices --builtin $b" 0 "$BIN" devices --builtin "$b"
done

echo "1..$n"
exit $((failed ? 1 : 0))
