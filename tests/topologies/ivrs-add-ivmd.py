#!/usr/bin/env python3
"""ivrs-add-ivmd.py -- append IVMD (I/O Virtualization Memory Definition)
blocks to a binary ACPI IVRS table: the AMD-Vi counterpart of RMRRs.

QEMU's amd-iommu IVRS has one IVHD (type 0x10) and no IVMD.  This script
appends IVMDs, fixes the header length and checksum and can bump the OEM
revision (the kernel's initrd table upgrade only replaces a firmware table
with a strictly higher OEM revision).  See README.md and
capture-acpi-override.patch in this directory.

Usage:
  ivrs-add-ivmd.py IN OUT [--oem-revision N] --ivmd SPEC [--ivmd SPEC ...]
  SPEC = KIND:DEVS:START+LENGTH[:FLAGS]
    KIND   dev   (type 0x21, one device: DEVS = BB:DD.F)
           range (type 0x22, DEVS = BB:DD.F-BB:DD.F, inclusive)
           all   (type 0x20, DEVS = '-')
    START, LENGTH   hex/dec; the kernel page-aligns them
    FLAGS  default 0x7 = unity map | IR | IW; 0x8 = exclusion range

Layout (AMD IOMMU spec, "IVMD"; little endian), after the 48-byte IVRS header
(36-byte ACPI SDT header, IVinfo u32, reserved u64) and the IVHD blocks:
  type u8          0x20 all peripherals, 0x21 specified peripheral,
                   0x22 peripheral range
  flags u8         bit0 Unity (identity map), bit1 IR, bit2 IW,
                   bit3 ExclusionRange
  length u16 = 32
  device id u16    BDF = bus<<8 | dev<<3 | fn (type 0x21; start for 0x22)
  aux data u16     end BDF for type 0x22, else 0
  reserved u64
  start address u64
  memory block length u64
Checksum: all bytes of the table sum to 0 mod 256.
"""
import argparse
import struct
import sys


def bdf(s):
    b, _, df = s.partition(':')
    d, _, f = df.partition('.')
    return int(b, 16) << 8 | int(d, 16) << 3 | int(f, 16)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('inp')
    ap.add_argument('out')
    ap.add_argument('--ivmd', action='append', required=True)
    ap.add_argument('--oem-revision', type=lambda s: int(s, 0))
    a = ap.parse_args()

    t = bytearray(open(a.inp, 'rb').read())
    if t[0:4] != b'IVRS':
        sys.exit('%s: not an IVRS table' % a.inp)
    t = t[:struct.unpack_from('<I', t, 4)[0]]

    blocks = b''
    for spec in a.ivmd:
        parts = spec.split(':', 1)
        kind, rest = parts[0], parts[1]
        # rest = DEVS:START+LEN[:FLAGS]; DEVS itself contains ':'
        fields = rest.rsplit(':', 2)
        if '+' in fields[-1]:
            devs, rng, flags = ':'.join(fields[:-1]), fields[-1], 0x7
        else:
            devs, rng, flags = fields[0], fields[1], int(fields[2], 0)
        start_s, _, len_s = rng.partition('+')
        start, length = int(start_s, 0), int(len_s, 0)
        if kind == 'dev':
            typ, dev, aux = 0x21, bdf(devs), 0
        elif kind == 'range':
            lo, _, hi = devs.partition('-')
            typ, dev, aux = 0x22, bdf(lo), bdf(hi)
        elif kind == 'all':
            typ, dev, aux = 0x20, 0, 0
        else:
            sys.exit('bad kind %r' % kind)
        blocks += struct.pack('<BBHHHQQQ', typ, flags, 32, dev, aux, 0, start, length)

    t += blocks
    struct.pack_into('<I', t, 4, len(t))
    if a.oem_revision is not None:
        struct.pack_into('<I', t, 24, a.oem_revision)
    t[9] = 0
    t[9] = (-sum(t)) & 0xff
    assert sum(t) & 0xff == 0
    open(a.out, 'wb').write(bytes(t))
    print('%s: %d bytes, %d IVMD(s) appended, checksum %#04x'
          % (a.out, len(t), len(a.ivmd), t[9]), file=sys.stderr)


if __name__ == '__main__':
    main()
