#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the fuzz targets from real captures.

    fuzz/gen_corpus.py [CAPTURES_DIR [OUT_DIR]]

defaults: tests/captures and fuzz/corpus (relative to the source tree).

fuzz_config/   a few config spaces as captured (root ports with ACS, a
               switch, a PCIe-to-PCI bridge, conventional functions, an
               SR-IOV physical function and one of its virtual functions).
fuzz_snapshot/ whole captures in the record format of fuzz/fuzz_snapshot.c;
               config spaces are cut after their last non-zero dword (rounded
               up; see trim_config) to keep the corpus small.

The output is deterministic: running it again rewrites the same files.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)

PCI_ATTRS = ["config", "driver", "vendor", "device", "class", "revision",
             "subsystem_vendor", "subsystem_device", "resource", "irq"]
ACPI_NAMES = ["DMAR", "IVRS", "APIC", "MCFG", "SSDT1", "DSDT", "FACP", "HPET"]
INTEL_ATTRS = ["cap", "ecap", "version", "address"]
AMD_ATTRS = ["cap", "features"]

# (capture, device) pairs for fuzz_config.
CONFIG_SEEDS = [
    ("b-rootports", "0000:00:10.0"),     # root port with ACS
    ("b-rootports", "0000:03:00.0"),     # PCIe endpoint (NVMe)
    ("d-switch", "0000:01:00.0"),        # switch upstream port
    ("lx-pci-bridges", "0000:01:02.0"),  # conventional PCI-to-PCI bridge
    ("lx-pci-bridges", "0000:01:01.0"),  # conventional PCI function
    ("lx-sriov", "0000:00:05.0"),        # SR-IOV PF
    ("lx-sriov", "0000:00:05.1"),        # one of its VFs
    ("lx-amd-server", "0000:00:00.0"),   # host bridge
]

# Captures turned into fuzz_snapshot seeds.
SNAPSHOT_SEEDS = ["d-switch", "lx-pci-bridges", "lx-amd-server", "lx-sriov"]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def trim_config(cfg):
    """Cut after the last non-zero dword, rounded up to 64 bytes (256 in the
    extended space, so that the capabilities there keep their registers)."""
    end = len(cfg)
    while end > 64 and cfg[end - 4:end] == b"\0\0\0\0":
        end -= 4
    step = 256 if end > 256 else 64
    end = min(len(cfg), (end + step - 1) // step * step)
    return cfg[:end]


def record(kind, a, b, data):
    assert len(data) < 65536
    return struct.pack("<BBBH", kind, a, b, len(data)) + data


def snapshot_seed(cap):
    out = b""
    pci = os.path.join(cap, "pci")
    for bdf in sorted(os.listdir(pci)):
        seg, bus, df = bdf.split(":")
        slot, func = df.split(".")
        seg_bit = 0x10 if int(seg, 16) else 0
        devfn = int(slot, 16) << 3 | int(func)
        for i, attr in enumerate(PCI_ATTRS):
            p = os.path.join(pci, bdf, attr)
            if not os.path.isfile(p):
                continue
            data = read(p)
            if attr == "config":
                data = trim_config(data)
            elif attr == "resource":
                continue        # large and unused by the loader
            out += record(i | seg_bit, int(bus, 16), devfn, data)
    acpi = os.path.join(cap, "acpi")
    for i, name in enumerate(ACPI_NAMES):
        p = os.path.join(acpi, name)
        if name in ("DMAR", "IVRS") and os.path.isfile(p):
            out += record(10, i, 0, read(p))
    for kind, name in ((11, "cmdline"), (12, "kernel-release")):
        p = os.path.join(cap, name)
        if os.path.isfile(p):
            out += record(kind, 0, 0, read(p))
    cls = os.path.join(cap, "iommu_class")
    if os.path.isdir(cls):
        for unit in sorted(os.listdir(cls)):
            digits = "".join(c for c in unit if c.isdigit()) or "0"
            for kind, sub, attrs in ((13, "intel-iommu", INTEL_ATTRS),
                                     (14, "amd-iommu", AMD_ATTRS)):
                for i, attr in enumerate(attrs):
                    p = os.path.join(cls, unit, sub, attr)
                    if os.path.isfile(p):
                        out += record(kind, int(digits) % 8, i, read(p))
    return out


def main():
    captures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "tests", "captures")
    outdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "corpus")
    cdir = os.path.join(outdir, "fuzz_config")
    sdir = os.path.join(outdir, "fuzz_snapshot")
    os.makedirs(cdir, exist_ok=True)
    os.makedirs(sdir, exist_ok=True)
    for cap, bdf in CONFIG_SEEDS:
        data = read(os.path.join(captures, cap, "pci", bdf, "config"))
        name = "%s-%s" % (cap, bdf.replace(":", "_"))
        with open(os.path.join(cdir, name), "wb") as f:
            f.write(data)
        # The same function cut to the 64-byte header and to 256 bytes.
        for n in (64, 256):
            if len(data) > n:
                with open(os.path.join(cdir, "%s-%d" % (name, n)), "wb") as f:
                    f.write(data[:n])
    for cap in SNAPSHOT_SEEDS:
        with open(os.path.join(sdir, cap), "wb") as f:
            f.write(snapshot_seed(os.path.join(captures, cap)))


if __name__ == "__main__":
    main()
