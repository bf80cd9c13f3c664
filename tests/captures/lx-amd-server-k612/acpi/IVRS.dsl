/*
 * Intel ACPI Component Architecture
 * AML/ASL+ Disassembler version 20200925 (64-bit version)
 * Copyright (c) 2000 - 2020 Intel Corporation
 * 
 * Disassembly of IVRS
 *
 * ACPI Data Table [IVRS]
 *
 * Format: [HexOffset DecimalOffset ByteLength]  FieldName : FieldValue
 */

[000h 0000   4]                    Signature : "IVRS"    [I/O Virtualization Reporting Structure]
[004h 0004   4]                 Table Length : 000000DC
[008h 0008   1]                     Revision : 01
[009h 0009   1]                     Checksum : F0
[00Ah 0010   6]                       Oem ID : "BOCHS "
[010h 0016   8]                 Oem Table ID : "BXPC    "
[018h 0024   4]                 Oem Revision : 00000001
[01Ch 0028   4]              Asl Compiler ID : "BXPC"
[020h 0032   4]        Asl Compiler Revision : 00000001

[024h 0036   4]          Virtualization Info : 00002800
[028h 0040   8]                     Reserved : 0000000000000000

[030h 0048   1]                Subtable Type : 10 [Hardware Definition Block]
[031h 0049   1]                        Flags : D1
[032h 0050   2]                       Length : 00AC
[034h 0052   2]                     DeviceId : 0008

[036h 0054   2]            Capability Offset : 0040
[038h 0056   8]                 Base Address : 00000000FED80000
[040h 0064   2]            PCI Segment Group : 0000
[042h 0066   2]          Virtualization Info : 0000
[044h 0068   4]            Feature Reporting : 00000044

[048h 0072   1]                   Entry Type : 02
[049h 0073   2]                    Device ID : 0000
[04Bh 0075   1]                 Data Setting : 00

[04Ch 0076   1]                   Entry Type : 02
[04Dh 0077   2]                    Device ID : 0008
[04Fh 0079   1]                 Data Setting : 00

[050h 0080   1]                   Entry Type : 02
[051h 0081   2]                    Device ID : 0010
[053h 0083   1]                 Data Setting : 00

[054h 0084   1]                   Entry Type : 02
[055h 0085   2]                    Device ID : 0018
[057h 0087   1]                 Data Setting : 00

[058h 0088   1]                   Entry Type : 02
[059h 0089   2]                    Device ID : 0019
[05Bh 0091   1]                 Data Setting : 00

[05Ch 0092   1]                   Entry Type : 02
[05Dh 0093   2]                    Device ID : 001A
[05Fh 0095   1]                 Data Setting : 00

[060h 0096   1]                   Entry Type : 02
[061h 0097   2]                    Device ID : 0050
[063h 0099   1]                 Data Setting : 00

[064h 0100   1]                   Entry Type : 43
[065h 0101   2]                    Device ID : 0100
[067h 0103   1]                 Data Setting : 00
[068h 0104   1]                     Reserved : 00
[069h 0105   2]        Source Used Device ID : 0100
[06Bh 0107   1]                     Reserved : 00

[06Ch 0108   1]                   Entry Type : 04
[06Dh 0109   2]                    Device ID : 01FF
[06Fh 0111   1]                 Data Setting : 00

[070h 0112   1]                   Entry Type : 02
[071h 0113   2]                    Device ID : 00E0
[073h 0115   1]                 Data Setting : 00

[074h 0116   1]                   Entry Type : 03
[075h 0117   2]                    Device ID : 0200
[077h 0119   1]                 Data Setting : 00

[078h 0120   1]                   Entry Type : 04
[079h 0121   2]                    Device ID : 02FF
[07Bh 0123   1]                 Data Setting : 00

[07Ch 0124   1]                   Entry Type : 02
[07Dh 0125   2]                    Device ID : 00E1
[07Fh 0127   1]                 Data Setting : 00

[080h 0128   1]                   Entry Type : 03
[081h 0129   2]                    Device ID : 0300
[083h 0131   1]                 Data Setting : 00

[084h 0132   1]                   Entry Type : 04
[085h 0133   2]                    Device ID : 03FF
[087h 0135   1]                 Data Setting : 00

[088h 0136   1]                   Entry Type : 02
[089h 0137   2]                    Device ID : 00E2
[08Bh 0139   1]                 Data Setting : 00

[08Ch 0140   1]                   Entry Type : 02
[08Dh 0141   2]                    Device ID : 0400
[08Fh 0143   1]                 Data Setting : 00

[090h 0144   1]                   Entry Type : 43
[091h 0145   2]                    Device ID : 0500
[093h 0147   1]                 Data Setting : 00
[094h 0148   1]                     Reserved : 00
[095h 0149   2]        Source Used Device ID : 0500
[097h 0151   1]                     Reserved : 00

[098h 0152   1]                   Entry Type : 04
[099h 0153   2]                    Device ID : 05FF
[09Bh 0155   1]                 Data Setting : 00

[09Ch 0156   1]                   Entry Type : 02
[09Dh 0157   2]                    Device ID : 00E8
[09Fh 0159   1]                 Data Setting : 00

[0A0h 0160   1]                   Entry Type : 02
[0A1h 0161   2]                    Device ID : 0600
[0A3h 0163   1]                 Data Setting : 00

[0A4h 0164   1]                   Entry Type : 02
[0A5h 0165   2]                    Device ID : 0700
[0A7h 0167   1]                 Data Setting : 00

[0A8h 0168   1]                   Entry Type : 03
[0A9h 0169   2]                    Device ID : 0800
[0ABh 0171   1]                 Data Setting : 00

[0ACh 0172   1]                   Entry Type : 04
[0ADh 0173   2]                    Device ID : 08FF
[0AFh 0175   1]                 Data Setting : 00

[0B0h 0176   1]                   Entry Type : 02
[0B1h 0177   2]                    Device ID : 0708
[0B3h 0179   1]                 Data Setting : 00

[0B4h 0180   1]                   Entry Type : 03
[0B5h 0181   2]                    Device ID : 0900
[0B7h 0183   1]                 Data Setting : 00

[0B8h 0184   1]                   Entry Type : 04
[0B9h 0185   2]                    Device ID : 09FF
[0BBh 0187   1]                 Data Setting : 00

[0BCh 0188   1]                   Entry Type : 02
[0BDh 0189   2]                    Device ID : 0710
[0BFh 0191   1]                 Data Setting : 00

[0C0h 0192   1]                   Entry Type : 03
[0C1h 0193   2]                    Device ID : 0A00
[0C3h 0195   1]                 Data Setting : 00

[0C4h 0196   1]                   Entry Type : 04
[0C5h 0197   2]                    Device ID : 0AFF
[0C7h 0199   1]                 Data Setting : 00

[0C8h 0200   1]                   Entry Type : 02
[0C9h 0201   2]                    Device ID : 00F8
[0CBh 0203   1]                 Data Setting : 00

[0CCh 0204   1]                   Entry Type : 02
[0CDh 0205   2]                    Device ID : 00FA
[0CFh 0207   1]                 Data Setting : 00

[0D0h 0208   1]                   Entry Type : 02
[0D1h 0209   2]                    Device ID : 00FB
[0D3h 0211   1]                 Data Setting : 00

[0D4h 0212   1]                   Entry Type : 48
[0D5h 0213   2]                    Device ID : 0000
[0D7h 0215   1]                 Data Setting : 00
[0D8h 0216   1]                       Handle : 00
[0D9h 0217   2]        Source Used Device ID : 00A0
[0DBh 0219   1]                      Variety : 01

Raw Table Data: Length 220 (0xDC)

    0000: 49 56 52 53 DC 00 00 00 01 F0 42 4F 43 48 53 20  // IVRS......BOCHS 
    0010: 42 58 50 43 20 20 20 20 01 00 00 00 42 58 50 43  // BXPC    ....BXPC
    0020: 01 00 00 00 00 28 00 00 00 00 00 00 00 00 00 00  // .....(..........
    0030: 10 D1 AC 00 08 00 40 00 00 00 D8 FE 00 00 00 00  // ......@.........
    0040: 00 00 00 00 44 00 00 00 02 00 00 00 02 08 00 00  // ....D...........
    0050: 02 10 00 00 02 18 00 00 02 19 00 00 02 1A 00 00  // ................
    0060: 02 50 00 00 43 00 01 00 00 00 01 00 04 FF 01 00  // .P..C...........
    0070: 02 E0 00 00 03 00 02 00 04 FF 02 00 02 E1 00 00  // ................
    0080: 03 00 03 00 04 FF 03 00 02 E2 00 00 02 00 04 00  // ................
    0090: 43 00 05 00 00 00 05 00 04 FF 05 00 02 E8 00 00  // C...............
    00A0: 02 00 06 00 02 00 07 00 03 00 08 00 04 FF 08 00  // ................
    00B0: 02 08 07 00 03 00 09 00 04 FF 09 00 02 10 07 00  // ................
    00C0: 03 00 0A 00 04 FF 0A 00 02 F8 00 00 02 FA 00 00  // ................
    00D0: 02 FB 00 00 48 00 00 00 00 A0 00 01              // ....H.......
