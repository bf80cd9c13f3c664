#!/bin/bash
# iommu groups --set-type N TYPE: what `echo TYPE > /sys/kernel/iommu_groups/N/type`
# does on the modelled kernel (iommu_group_store_type, reference 3.6):
# the outcome line, the shell's "write error" for a refusal with exit 1,
# the listing after.  6.1 and 6.12 differ (one-device rule and bound
# drivers before 6.5, owner_cnt from 6.5).  TAP output.
set -u
BIN=${IOMMU_BIN:?IOMMU_BIN not set}
CAPS=${IOMMU_CAPTURES:?IOMMU_CAPTURES not set}
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }
# run: sets $out and $rc
run() { out=$("$@" 2>&1); rc=$?; }
# expect: want-rc, grep pattern (fixed string), description
expect() {
	if [ "$rc" -eq "$1" ] && printf '%s\n' "$out" | grep -qF -- "$2"; then
		ok "$3"
	else
		not_ok "$3: exit $rc (want $1), output: $(printf '%s' "$out" | head -5)"
	fi
}
# the type the listing shows for group $1
listed_type() {
	printf '%s\n' "$out" | awk -v g="IOMMU Group $1:" '$0 == g { f = 1; next }
		f && /^\ttype: / { print $2; exit } /^IOMMU Group/ { f = 0 }'
}

R61="$CAPS/lx-intel-server-rmrr"        # kernel 6.1: pcieport on the root ports
R612="$CAPS/lx-intel-server-rmrr-k612"  # kernel 6.12: also virtio-pci on 00:08.1/.2

# 6.1, a single-device group without a driver: identity, and the listing after says so
run "$BIN" groups --snapshot "$R61" --set-type 10 identity
expect 0 "# group 10 type: DMA-FQ -> identity" "6.1: group 10 DMA-FQ -> identity"
[ "$(listed_type 10)" = identity ] && ok "listing after shows group 10 identity" ||
	not_ok "listing after: group 10 is '$(listed_type 10)'"
[ "$(listed_type 11)" = DMA-FQ ] && ok "other groups unchanged" || not_ok "group 11 is '$(listed_type 11)'"
printf '%s\n' "$out" | head -1 | grep -qF "# echo identity > /sys/kernel/iommu_groups/10/type" &&
	ok "the write is shown as the shell command" || not_ok "first line: $(printf '%s\n' "$out" | head -1)"

# 6.1: more than one device (iommu_group_store_type: "Group has more than one device")
run "$BIN" groups --snapshot "$R61" --set-type 2 identity
expect 1 "write error: Invalid argument" "6.1: a group of three devices is EINVAL"
[ "$(listed_type 2)" = DMA-FQ ] && ok "the refused group keeps its type" || not_ok "group 2 is '$(listed_type 2)'"

# 6.1: a driver bound, even pcieport ("Device is still bound to driver")
run "$BIN" groups --snapshot "$R61" --set-type 4 identity
expect 1 "write error: Device or resource busy" "6.1: pcieport bound is EBUSY"
# ... except DMA -> DMA-FQ (strict groups with iommu.strict=1)
run "$BIN" groups --snapshot "$R61" --cmdline "intel_iommu=on iommu.strict=1" --set-type 4 DMA-FQ
expect 0 "# group 4 type: DMA -> DMA-FQ" "6.1: DMA -> DMA-FQ with pcieport bound"

# the same writes on 6.12 (6.5+ rules): several devices fine, pcieport does not count
run "$BIN" groups --snapshot "$R61" --kernel 6.12 --set-type 4 identity
expect 0 "DMA-FQ -> identity" "--kernel 6.12: pcieport's group changes"
run "$BIN" groups --snapshot "$R612" --set-type 13 identity
expect 0 "# group 13 type: DMA-FQ -> identity" "6.12: a group of four devices changes"
# ... but a DMA-API driver bound makes owner_cnt non-zero: EPERM (virtio-pci in the capture)
run "$BIN" groups --snapshot "$R612" --set-type 2 identity
expect 1 "write error: Operation not permitted" "6.12: virtio-pci bound is EPERM"
printf '%s\n' "$out" | grep -qF "virtio-pci" && ok "the refusal names the driver" || not_ok "no driver named"

# strings: sysfs_streq against identity, DMA, DMA-FQ, auto only
run "$BIN" groups --snapshot "$R61" --set-type 10 blocked
expect 1 "write error: Invalid argument" "'blocked' is EINVAL"
run "$BIN" groups --snapshot "$R61" --set-type 10 auto
expect 0 "# group 10 type: DMA-FQ -> DMA-FQ" "'auto' is the global default"

# JSON: the outcome as an object, the listing as usual
run "$BIN" groups --snapshot "$R612" --set-type 2 DMA --json
if [ "$rc" -eq 1 ] && python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
st = d["set_type"]
assert st["group"] == 2 and st["ok"] is False and st["errno"] == "EPERM", st
assert st["request"] == "DMA" and st["type"] == "DMA-FQ" and st["before"] == "DMA-FQ", st
assert [g for g in d["groups"] if g["id"] == 2][0]["type"] == "DMA-FQ"
PY
then ok "--json: set_type object"; else not_ok "--json: exit $rc: $(printf '%s' "$out" | head -3)"; fi

# built-in platforms; AMD domains are software page tables (said in a note)
run "$BIN" groups --builtin intel-server --set-type 12 DMA
expect 0 "# group 12 type: DMA-FQ -> DMA" "built-in intel-server: group 12 to DMA"
run "$BIN" groups --builtin amd-server --set-type 1 identity
expect 0 "# group 1 type: DMA -> identity" "built-in amd-server: group 1 to identity"
printf '%s\n' "$out" | grep -qF "AMD-Vi hardware is not modelled" && ok "AMD: the note says so" ||
	not_ok "AMD: no note"

# command-line errors: exit 2
run "$BIN" groups --snapshot "$R61" --set-type 99 identity
expect 2 "no IOMMU group 99" "a group that does not exist"
run "$BIN" groups --snapshot "$R61" --set-type 10
expect 2 "give one type" "--set-type without a type"
run "$BIN" groups --snapshot "$R61" --set-type x identity
expect 2 "wants a group number" "--set-type with a bad number"
run "$BIN" groups --snapshot "$R61" --set-type 10 identity DMA
expect 2 "give one type" "--set-type with two types"

echo "1..$n"
[ "$fail" -eq 0 ]
