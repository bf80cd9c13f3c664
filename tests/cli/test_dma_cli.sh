#!/bin/bash
# iommu dma: every scenario in tests/scenarios/ against its expected
# output (golden test), and the command's exit statuses.  TAP output.
set -u
BIN=${IOMMU_BIN:?IOMMU_BIN not set}
CAPS=${IOMMU_CAPTURES:?IOMMU_CAPTURES not set}
DIR=$(cd "$(dirname "$0")/../scenarios" && pwd)
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }
expect_rc() {  # want, description, command...
	local want=$1 what=$2; shift 2
	"$@" >/dev/null 2>&1; local rc=$?
	if [ $rc -eq "$want" ]; then ok "$what (exit $rc)"; else not_ok "$what: exit $rc, want $want"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for scn in "$DIR"/*.scn; do
	name=$(basename "$scn" .scn)
	args=()
	[ -f "$DIR/$name.args" ] && mapfile -t args < "$DIR/$name.args"
	(cd "$DIR" && "$BIN" dma "${args[@]}" "$name.scn") > "$tmp/$name.out" 2> "$tmp/$name.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		not_ok "$name: exit $rc: $(head -c 300 "$tmp/$name.err")"
	elif [ ! -f "$DIR/$name.out" ]; then
		not_ok "$name: no expected output $DIR/$name.out"
	elif diff -u "$DIR/$name.out" "$tmp/$name.out" > "$tmp/$name.diff"; then
		ok "$name: the output equals $name.out"
	else
		not_ok "$name: the output differs from $name.out (regenerate: cd tests/scenarios && iommu dma ${args[*]} $name.scn)"
		sed 's/^/# /' "$tmp/$name.diff" | head -40
	fi
done

# Standard input, and the exit statuses iommu(1) documents.
out=$(printf 'device 00:08.0\nmap_single a 0x100000 4096\n' | "$BIN" dma -)
echo "$out" | grep -q '^  a = 0xfffff000 ' && ok "a scenario on standard input" || not_ok "stdin: $out"
expect_rc 0 "--help" "$BIN" dma --help
expect_rc 0 "help dma" "$BIN" help dma
expect_rc 2 "no scenario" "$BIN" dma
expect_rc 2 "a missing scenario file" "$BIN" dma "$tmp/none.scn"
expect_rc 2 "an unknown option" "$BIN" dma --bogus "$DIR/first-maps.scn"
expect_rc 2 "--inv-wait garbage" "$BIN" dma --inv-wait ten "$DIR/first-maps.scn"
for bad in 'frobnicate' 'device 99:00.0' 'device zz' 'map_single a 0x1000' \
	   'device 00:08.0\nmap_single a 0x1000 4096 sideways' 'device 00:08.0\nadvance 10 ms' \
	   'device 00:08.0\nunmap nothing' 'device 00:08.0\nmap_sg s 0x1000' \
	   'device 00:08.0\npci_window 1 2' 'map_single a 0x1000 4096' 'device 00:08.0\nmask 65' \
	   'device 00:08.0\nchurn 0 4096' 'device 00:08.0\ntranslate 0x1000 sideways'; do
	printf "$bad\n" > "$tmp/bad.scn"
	err=$("$BIN" dma "$tmp/bad.scn" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 2 ] && echo "$err" | grep -q 'bad.scn:[0-9]*: '; then
		ok "malformed line '$bad': exit 2 naming the line"
	else
		not_ok "malformed line '$bad': exit $rc, '$err'"
	fi
done
printf 'device 00:08.0\nmap_single a 0x1000 4096\nmap_single a 0x2000 4096\n' > "$tmp/dup.scn"
expect_rc 2 "a name mapped twice" "$BIN" dma "$tmp/dup.scn"
expect_rc 1 "a platform without an IOMMU" "$BIN" dma --snapshot "$CAPS/z-no-iommu" "$DIR/first-maps.scn"
expect_rc 3 "a missing snapshot" "$BIN" dma --snapshot "$tmp/nowhere" "$DIR/first-maps.scn"

echo "1..$n"
[ $fail -eq 0 ]
