#!/usr/bin/env python3
"""dmar-add-rmrr.py -- add RMRR structures to a binary ACPI DMAR table.

QEMU's intel-iommu builds a DMAR with only DRHD (and, with device-iotlb=on,
ATSR) structures.  Real Intel platforms also carry RMRRs (Reserved Memory
Region Reporting), e.g. for USB legacy emulation or integrated graphics.
This script takes a captured DMAR (tests/captures/<x>/acpi/DMAR), inserts
RMRR structures, fixes the header length and checksum, and writes a table
that the kernel accepts as an ACPI table upgrade from the initrd
(kernel/firmware/acpi/DMAR.aml, see capture-acpi-override.patch and
README.md in this directory).

Usage:
  dmar-add-rmrr.py IN OUT --rmrr BASE-LIMIT@BUS:DD.F[/DD.F...] [--rmrr ...]

  BASE, LIMIT  hex/dec addresses; LIMIT is the INCLUSIVE last byte.  VT-d
               requires BASE 4 KiB aligned and LIMIT+1 4 KiB aligned.
  BUS:DD.F/... a device scope: start bus, then the (device.function) path
               hops from that bus, e.g. 00:1d.0/00.0/01.0/00.0 means
               "bus 0 dev 1d fn 0 -> its secondary bus dev 0 fn 0 -> ...".
               Several scopes for one RMRR: separate with '+'.
  --segment N  PCI segment of the RMRRs (default 0)
  --oem-revision N   optionally override the header's OEM revision

Layout (ACPI DMAR, Intel VT-d spec ch. 8; all little endian):
  DMAR header (48 bytes): the 36-byte ACPI SDT header
      signature[4]="DMAR" length u32 revision u8 checksum u8 oem_id[6]
      oem_table_id[8] oem_revision u32 creator_id[4] creator_revision u32
    then host_address_width u8, flags u8, reserved[10].
  Then remapping structures, each starting with type u16, length u16.
  Types: 0 DRHD, 1 RMRR, 2 ATSR, 3 RHSA, 4 ANDD, 5 SATC.  The spec wants them
  ordered by type, so RMRRs are inserted after the last DRHD and before the
  first structure of type >= 2 (e.g. QEMU's ATSR).
  RMRR (type 1):
      type u16 = 1
      length u16 = 24 + total length of the device scopes
      reserved u16
      segment u16
      base u64               (4K aligned)
      limit u64              (inclusive end address; limit+1 4K aligned)
      device scopes...
  Device scope:
      type u8                (1 = PCI endpoint, 2 = PCI sub-hierarchy/bridge,
                              3 = IOAPIC, 4 = HPET, 5 = ACPI namespace device)
      length u8 = 6 + 2*n    (n = number of path entries)
      reserved u16
      enumeration id u8      (0 for PCI devices)
      start bus u8
      path: n x (device u8, function u8)
  Checksum: all bytes of the table (header.length of them) sum to 0 mod 256.
"""
import argparse
import struct
import sys


def parse_int(s):
    return int(s, 0)


def parse_scope(s):
    """'00:1d.0/00.0/01.0' -> (start_bus, [(0x1d,0), (0,0), (1,0)])"""
    bus_s, _, path_s = s.partition(':')
    if not path_s:
        raise ValueError('scope %r: want BUS:DD.F[/DD.F...]' % s)
    path = []
    for hop in path_s.split('/'):
        d, _, f = hop.partition('.')
        dev, fn = int(d, 16), int(f, 16)
        if dev > 31 or fn > 7:
            raise ValueError('bad device/function %r' % hop)
        path.append((dev, fn))
    return int(bus_s, 16), path


def build_scope(start_bus, path, scope_type=1):
    b = struct.pack('<BBHBB', scope_type, 6 + 2 * len(path), 0, 0, start_bus)
    for dev, fn in path:
        b += struct.pack('<BB', dev, fn)
    return b


def build_rmrr(segment, base, limit, scopes):
    if base & 0xfff or (limit + 1) & 0xfff or limit <= base:
        raise ValueError('RMRR %#x-%#x: base and limit+1 must be 4K aligned, limit > base'
                         % (base, limit))
    body = b''.join(build_scope(bus, path) for bus, path in scopes)
    return struct.pack('<HHHHQQ', 1, 24 + len(body), 0, segment, base, limit) + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('inp')
    ap.add_argument('out')
    ap.add_argument('--rmrr', action='append', required=True,
                    help='BASE-LIMIT@BUS:DD.F[/DD.F...][+BUS:DD.F...]')
    ap.add_argument('--segment', type=parse_int, default=0)
    ap.add_argument('--oem-revision', type=parse_int)
    a = ap.parse_args()

    t = bytearray(open(a.inp, 'rb').read())
    if t[0:4] != b'DMAR':
        sys.exit('%s: not a DMAR table' % a.inp)
    length = struct.unpack_from('<I', t, 4)[0]
    t = t[:length]
    if sum(t) & 0xff:
        print('warning: input checksum is already wrong', file=sys.stderr)

    rmrrs = b''
    for spec in a.rmrr:
        rng, _, scopes_s = spec.partition('@')
        base_s, _, limit_s = rng.partition('-')
        scopes = [parse_scope(x) for x in scopes_s.split('+')]
        rmrrs += build_rmrr(a.segment, parse_int(base_s), parse_int(limit_s), scopes)

    # find insertion point: first remapping structure with type >= 2
    off = 48
    ins = length
    while off < length:
        typ, ln = struct.unpack_from('<HH', t, off)
        if ln < 4:
            sys.exit('corrupt structure at %#x' % off)
        if typ >= 2:
            ins = off
            break
        off += ln
    t = t[:ins] + rmrrs + t[ins:]

    struct.pack_into('<I', t, 4, len(t))
    if a.oem_revision is not None:
        struct.pack_into('<I', t, 24, a.oem_revision)
    t[9] = 0
    t[9] = (-sum(t)) & 0xff
    assert sum(t) & 0xff == 0
    open(a.out, 'wb').write(bytes(t))
    print('%s: %d bytes (+%d), %d RMRR(s) inserted at offset %#x, checksum %#04x'
          % (a.out, len(t), len(rmrrs), len(a.rmrr), ins, t[9]), file=sys.stderr)


if __name__ == '__main__':
    main()
