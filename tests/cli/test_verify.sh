#!/bin/bash
# iommu groups --host --verify, fed each capture laid out as a live host's
# /sys and /proc would show it (including /sys/kernel/iommu_groups with the
# kernel's answer): it must report agreement on every capture the model
# reproduces, and disagreement, with the difference named, when the
# kernel's answer is changed on purpose.  TAP output.
set -u
BIN=${IOMMU_BIN:?IOMMU_BIN not set}
CAPS=${IOMMU_CAPTURES:?IOMMU_CAPTURES not set}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

# Captures the model does not reproduce yet (see tests/unit/test_groups.c).
known_gap() { [ "$1" = h-virtio-iommu ]; }

# make_host CAPTURE DEST: the capture's inputs and answers as /sys and /proc.
make_host() {
	local cap=$1 dest=$2 d bdf f g
	mkdir -p "$dest/sys/bus/pci/devices" "$dest/sys/bus/pci/drivers" \
		"$dest/sys/firmware/acpi/tables" "$dest/sys/class/iommu" \
		"$dest/sys/kernel/iommu_groups" "$dest/proc/sys/kernel"
	for d in "$cap"/pci/*/; do
		bdf=$(basename "$d")
		mkdir -p "$dest/sys/bus/pci/devices/$bdf"
		for f in config vendor device class revision subsystem_vendor subsystem_device resource irq; do
			[ -f "$d/$f" ] && cp "$d/$f" "$dest/sys/bus/pci/devices/$bdf/$f"
		done
		if [ -f "$d/driver" ]; then
			drv=$(cat "$d/driver")
			mkdir -p "$dest/sys/bus/pci/drivers/$drv"
			ln -s "../../../bus/pci/drivers/$drv" "$dest/sys/bus/pci/devices/$bdf/driver"
		fi
	done
	for f in "$cap"/acpi/*; do
		case $(basename "$f") in *.*) continue ;; esac
		cp "$f" "$dest/sys/firmware/acpi/tables/"
	done
	[ -d "$cap/iommu_class" ] && cp -r "$cap/iommu_class/." "$dest/sys/class/iommu/"
	for g in "$cap"/iommu_groups/*/; do
		[ -d "$g" ] || continue
		local id; id=$(basename "$g")
		mkdir -p "$dest/sys/kernel/iommu_groups/$id/devices"
		cp "$g/type" "$g/reserved_regions" "$dest/sys/kernel/iommu_groups/$id/"
		for bdf in $(cat "$g/devices"); do
			touch "$dest/sys/kernel/iommu_groups/$id/devices/$bdf"
		done
	done
	cp "$cap/cmdline" "$dest/proc/cmdline"
	cp "$cap/kernel-release" "$dest/proc/sys/kernel/osrelease"
}

verify() {
	"$BIN" groups --host --sysfs "$1/sys" --procfs "$1/proc" --verify
}

count=0
for cap in "$CAPS"/*/; do
	name=$(basename "$cap")
	[ -d "$cap/pci" ] || continue
	count=$((count + 1))
	host="$TMP/$name"
	make_host "$cap" "$host"
	out=$(verify "$host" 2>&1)
	rc=$?
	if known_gap "$name"; then
		if [ $rc -eq 5 ]; then
			ok "$name: --verify reports the known gap as a difference"
		else
			not_ok "$name: known gap but --verify exited $rc"
		fi
		continue
	fi
	if [ $rc -eq 0 ] && echo "$out" | grep -q '^agree'; then
		ok "$name: --verify agrees with the kernel"
	else
		not_ok "$name: --verify exited $rc"
		echo "$out" | sed 's/^/# /'
	fi
done
if [ $count -ge 20 ]; then ok "$count captures verified"; else not_ok "only $count captures"; fi

# A deliberate mismatch: the kernel's type and one membership changed.
host="$TMP/mismatch"
make_host "$CAPS/d-switch" "$host"
echo identity > "$host/sys/kernel/iommu_groups/4/type"
out=$(verify "$host" 2>&1); rc=$?
if [ $rc -eq 5 ] && echo "$out" | grep -q 'group 4 type is identity in the kernel, DMA-FQ computed'; then
	ok "a changed type is reported as a difference"
else
	not_ok "changed type: exit $rc: $out"
fi
make_host "$CAPS/d-switch" "$TMP/mismatch2"
mv "$TMP/mismatch2/sys/kernel/iommu_groups/5/devices/0000:04:00.0" \
   "$TMP/mismatch2/sys/kernel/iommu_groups/6/devices/"
out=$(verify "$TMP/mismatch2" 2>&1); rc=$?
if [ $rc -eq 5 ] && echo "$out" | grep -q 'the kernel puts 0000:04:00.0 in group 6'; then
	ok "a moved device is reported as a difference"
else
	not_ok "moved device: exit $rc: $out"
fi
# --verify needs a host
"$BIN" groups --builtin intel-server --verify >/dev/null 2>&1; rc=$?
if [ $rc -eq 2 ]; then ok "--verify without --host is a usage error"; else not_ok "--verify without --host: $rc"; fi

echo "1..$n"
exit $((fail > 0))
