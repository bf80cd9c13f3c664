#!/bin/bash
# iommu groups / iommu explain from the command line: the JSON contract,
# what-if options, exit statuses.  TAP output.
set -u
BIN=${IOMMU_BIN:?IOMMU_BIN not set}
CAPS=${IOMMU_CAPTURES:?IOMMU_CAPTURES not set}
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }
expect_rc() {  # want, description, command...
	local want=$1 what=$2; shift 2
	"$@" >/dev/null 2>&1; local rc=$?
	if [ $rc -eq "$want" ]; then ok "$what (exit $rc)"; else not_ok "$what: exit $rc, want $want"; fi
}

# --json: the sysfs lines, the same members, for every capture
for cap in "$CAPS"/*/; do
	name=$(basename "$cap")
	[ "$name" = h-virtio-iommu ] && continue
	out=$("$BIN" groups --snapshot "$cap" --json 2>/dev/null)
	if python3 - "$cap" "$out" <<'PY'
import json, os, sys
cap, text = sys.argv[1], sys.argv[2]
doc = json.loads(text)
groups = {g["id"]: g for g in doc["groups"]}
kernel = {}
for line in open(os.path.join(cap, "groups.txt")):
    head, devs = line.split("devices:")
    gid = int(head.split()[1]); typ = head.split("type=")[1].strip()
    kernel[gid] = (typ, devs.split())
assert set(groups) == set(kernel), (sorted(groups), sorted(kernel))
for gid, (typ, devs) in kernel.items():
    g = groups[gid]
    assert isinstance(g["id"], int) and g["type"] == typ, (gid, g["type"], typ)
    assert sorted(g["devices"]) == sorted(devs), (gid, g["devices"], devs)
    want = open(os.path.join(cap, "iommu_groups", str(gid), "reserved_regions")).read().splitlines()
    assert g["reserved_regions"] == want, (gid, g["reserved_regions"], want)
PY
	then ok "$name: --json groups equal the kernel's"; else not_ok "$name: --json"; fi
done

# what-if: the command line and the kernel version
t=$("$BIN" groups --snapshot "$CAPS/b-rootports" --cmdline "intel_iommu=on iommu=pt" --json |
	python3 -c 'import json,sys; print(sorted({g["type"] for g in json.load(sys.stdin)["groups"]}))')
[ "$t" = "['identity']" ] && ok "--cmdline iommu=pt gives identity" || not_ok "--cmdline iommu=pt: $t"
t=$("$BIN" groups --snapshot "$CAPS/b-rootports" --cmdline "intel_iommu=off" --json 2>/dev/null |
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["groups"]), len(d["ungrouped"]))')
[ "$t" = "0 11" ] && ok "--cmdline intel_iommu=off: no groups" || not_ok "intel_iommu=off: $t"
t=$("$BIN" groups --snapshot "$CAPS/b4-rootports-noacs" --acs-override downstream)
echo "$t" | grep -q "NOT mainline" && ok "--acs-override is marked not mainline" || not_ok "--acs-override marking"
[ "$(echo "$t" | grep -c '^IOMMU Group')" -gt "$("$BIN" groups --snapshot "$CAPS/b4-rootports-noacs" | grep -c '^IOMMU Group')" ] &&
	ok "--acs-override downstream splits the root ports' groups" || not_ok "--acs-override did not split"
expect_rc 7 "no groups (intel_iommu=off) is exit 7" "$BIN" groups --snapshot "$CAPS/b-rootports" --cmdline "intel_iommu=off"
expect_rc 7 "no IOMMU (z-no-iommu) is exit 7" "$BIN" groups --snapshot "$CAPS/z-no-iommu"
out=$("$BIN" groups --snapshot "$CAPS/z-no-iommu")
echo "$out" | grep -q "no DMAR or IVRS table" && ok "a platform without IOMMU says why" || not_ok "z-no-iommu: $out"
expect_rc 0 "--kernel 6.12" "$BIN" groups --snapshot "$CAPS/d-switch" --kernel 6.12
expect_rc 3 "--kernel of an unknown version" "$BIN" groups --snapshot "$CAPS/d-switch" --kernel 2.6.32
expect_rc 3 "--kernel garbage" "$BIN" groups --snapshot "$CAPS/d-switch" --kernel banana
expect_rc 0 "a garbage command line is no error" "$BIN" groups --snapshot "$CAPS/d-switch" --cmdline '= == "x iommu= intel_iommu=,,,'
expect_rc 3 "--acs-override garbage" "$BIN" groups --builtin intel-server --acs-override bogus
expect_rc 2 "groups with an argument" "$BIN" groups extra

# explain
expect_rc 0 "explain a device" "$BIN" explain --builtin intel-server 05:01.0
expect_rc 3 "explain a device that does not exist" "$BIN" explain --builtin intel-server 0000:7f:00.0
expect_rc 2 "explain something that is not an address" "$BIN" explain --builtin intel-server 05:01
out=$("$BIN" explain --builtin intel-server 0000:05:01.0)
echo "$out" | grep -q "PCIe-to-PCI bridge 0000:04:00.0" && ok "explain names the bridge" || not_ok "explain: $out"
out=$("$BIN" explain --builtin amd-server 00:01.0)
echo "$out" | grep -q "AMD IOMMU's own PCI function" && ok "explain a device without a group" || not_ok "explain: $out"
"$BIN" groups --builtin intel-server --explain | grep -q "^	| " && ok "groups --explain" || not_ok "groups --explain"
"$BIN" groups --help | grep -q -- "--verify" && ok "groups --help" || not_ok "groups --help"
"$BIN" explain --help | grep -q "what would isolate" && ok "explain --help" || not_ok "explain --help"

# translate: a mapped address, an unmapped one, a platform that is not VT-d
out=$("$BIN" translate --builtin intel-server 00:08.1 0x1000 --map 0x0:0x40000000:2M); rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q "result: 0x40001000 (2 MiB page"; then
	ok "translate through a 2 MiB mapping"
else
	not_ok "translate mapped: exit $rc: $out"
fi
out=$("$BIN" translate --builtin intel-server 00:08.1 0x300000 --map 0x0:0x40000000:2M); rc=$?
if [ $rc -eq 6 ] && echo "$out" | grep -q "^fault 06h"; then
	ok "translate of an unmapped address faults (exit 6)"
else
	not_ok "translate unmapped: exit $rc: $out"
fi
expect_rc 1 "translate on an AMD platform is refused" "$BIN" translate --builtin amd-server 00:02.0 0x1000

echo "1..$n"
exit $((fail > 0))
