#!/bin/bash
# iommufd through `iommu run` with ordinary programs (coreutils): the
# device nodes a 6.12 system has (/dev/iommu, a misc char device; the
# VFIO device cdevs /dev/vfio/devices/vfioN in bind order, on the
# vfio-dev chrdev region), none on 6.1 (iommufd is 6.2, the cdevs 6.6),
# and the file operations iommufd does not have (read: EINVAL).  The
# ioctls themselves are tests/vfio/iommufd_api_test.c.  TAP output.
set -u
BIN=${IOMMU_BIN:?IOMMU_BIN not set}
CAPS=${IOMMU_CAPTURES:?IOMMU_CAPTURES not set}
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }
expect() {      # description, wanted output, command...
	local what=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then
		ok "$what"
	else
		not_ok "$what"
		printf '#   want: %s\n#   got:  %s\n' "$want" "$got" | head -20
	fi
}

snap=(--log none --snapshot "$CAPS/lx-intel-server")
binds=(--vfio 0000:01:00.0,0000:03:00.0)

expect "6.12: /dev/iommu is a misc char device (major 10 = 0xa), mode 0660" \
	"character special file a 660" \
	"$BIN" run "${snap[@]}" --kernel 6.12 "${binds[@]}" -- stat -c '%F %t %a' /dev/iommu
expect "6.12: /dev/vfio/devices lists the cdevs in bind order" \
	"vfio0 vfio1" \
	"$BIN" run "${snap[@]}" --kernel 6.12 "${binds[@]}" -- sh -c 'echo $(ls -U /dev/vfio/devices)'
expect "6.12: vfio1 is the second bound device (minor 1), mode 0600" \
	"character special file 1 600" \
	"$BIN" run "${snap[@]}" --kernel 6.12 "${binds[@]}" -- stat -c '%F %T %a' /dev/vfio/devices/vfio1
expect "6.12: /dev/vfio holds devices/ next to the group nodes" \
	"10 12 devices vfio" \
	"$BIN" run "${snap[@]}" --kernel 6.12 "${binds[@]}" -- sh -c 'echo $(ls /dev/vfio)'
expect "6.12: no device bound, no /dev/vfio/devices (devtmpfs makes it with the first node)" \
	"absent" \
	"$BIN" run "${snap[@]}" --kernel 6.12 -- sh -c 'test -e /dev/vfio/devices && echo present || echo absent'
expect "read(2) of /dev/iommu: EINVAL (iommufd_fops has no read)" \
	"cat: /dev/iommu: Invalid argument" \
	"$BIN" run "${snap[@]}" --kernel 6.12 -- cat /dev/iommu
expect "6.1 (the capture's kernel): no /dev/iommu" \
	"absent" \
	"$BIN" run "${snap[@]}" "${binds[@]}" -- sh -c 'test -e /dev/iommu && echo present || echo absent'
expect "6.1: no VFIO device cdevs" \
	"10 12 vfio" \
	"$BIN" run "${snap[@]}" "${binds[@]}" -- sh -c 'echo $(ls /dev/vfio)'
expect "6.6: the cdevs exist (CONFIG_VFIO_DEVICE_CDEV)" \
	"vfio0" \
	"$BIN" run "${snap[@]}" --kernel 6.6 --vfio 0000:01:00.0 -- ls /dev/vfio/devices

echo "1..$n"
[ $fail -eq 0 ]
