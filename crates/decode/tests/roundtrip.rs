//! encode → decode is the identity for random messages of every type.

use proptest::prelude::*;
use shadowfleet_decode::messages::*;
use shadowfleet_decode::{
    encode_nmea, AisMessage, AisText, Body, DecoderConfig, EncodeOptions, Header,
};
use shadowfleet_model::Timestamp;

use crate::common::decode_bytes;

fn text<const N: usize>() -> impl Strategy<Value = AisText<N>> {
    proptest::string::string_regex(&format!("[A-Z0-9 .,/-]{{0,{N}}}"))
        .unwrap()
        .prop_map(|s| AisText::from_str_lossy(s.trim_end()))
}

fn bin(max_bits: usize) -> impl Strategy<Value = BinaryData> {
    (0..=max_bits).prop_flat_map(|bits| {
        proptest::collection::vec(any::<u8>(), bits.div_ceil(8))
            .prop_map(move |b| BinaryData::from_bits(&b, bits))
    })
}

fn lat() -> impl Strategy<Value = i32> {
    -54_000_000..=54_600_000i32
}
fn lon() -> impl Strategy<Value = i32> {
    -108_000_000..=108_600_000i32
}

fn body() -> impl Strategy<Value = (u8, Body, u32)> {
    let mmsi = 1u32..=999_999_999;
    prop_oneof![
        (
            1u8..=3,
            any::<(u8, i8, u16, bool)>(),
            lat(),
            lon(),
            0u16..=3600,
            0u16..=511,
            0u8..64,
            any::<(u8, bool, u32)>(),
            mmsi.clone()
        )
            .prop_map(
                |(t, (st, turn, sp, acc), la, lo, co, hd, sec, (man, raim, radio), m)| {
                    (
                        t,
                        Body::PositionReport(PositionReport {
                            status: st & 15,
                            turn,
                            speed: sp & 1023,
                            accuracy: acc,
                            lon: lo,
                            lat: la,
                            course: co,
                            heading: hd,
                            second: sec,
                            maneuver: man & 3,
                            raim,
                            radio: radio & 0x7ffff,
                        }),
                        m,
                    )
                }
            ),
        (
            prop_oneof![Just(4u8), Just(11u8)],
            0u16..16384,
            0u8..16,
            0u8..32,
            0u8..32,
            0u8..64,
            0u8..64,
            lat(),
            lon(),
            any::<(u8, bool, u32)>(),
            mmsi.clone()
        )
            .prop_map(|(t, y, mo, d, h, mi, s, la, lo, (e, raim, radio), m)| {
                (
                    t,
                    Body::BaseStationReport(BaseStationReport {
                        year: y,
                        month: mo,
                        day: d,
                        hour: h,
                        minute: mi,
                        second: s,
                        accuracy: raim,
                        lon: lo,
                        lat: la,
                        epfd: e & 15,
                        raim,
                        radio: radio & 0x7ffff,
                    }),
                    m,
                )
            }),
        (
            0u32..(1 << 30),
            text::<7>(),
            text::<20>(),
            any::<(u8, u16, u16, u8, u8)>(),
            any::<(u8, u8, u8, u8, u8, u8)>(),
            text::<20>(),
            mmsi.clone()
        )
            .prop_map(
                |(imo, cs, name, (st, b, s, p, sb), (e, mo, d, h, mi, dr), dest, m)| {
                    (
                        5,
                        Body::StaticAndVoyageData(StaticAndVoyageData {
                            ais_version: 0,
                            imo,
                            callsign: cs,
                            shipname: name,
                            shiptype: st,
                            to_bow: b & 511,
                            to_stern: s & 511,
                            to_port: p & 63,
                            to_starboard: sb & 63,
                            epfd: e & 15,
                            month: mo & 15,
                            day: d & 31,
                            hour: h & 31,
                            minute: mi & 63,
                            draught: dr,
                            destination: dest,
                            dte: 0,
                        }),
                        m,
                    )
                }
            ),
        (any::<(u8, u32, bool, u16, u8)>(), bin(920), mmsi.clone()).prop_map(
            |((sq, dm, rt, dac, fid), data, m)| {
                (
                    6,
                    Body::AddressedBinary(AddressedBinary {
                        header: AddressedBinaryHeader {
                            seqno: sq & 3,
                            dest_mmsi: dm & 0x3fff_ffff,
                            retransmit: rt,
                            dac: dac & 1023,
                            fid: fid & 63,
                        },
                        data,
                        application: None,
                    }),
                    m,
                )
            }
        ),
        (
            prop_oneof![Just(7u8), Just(13u8)],
            proptest::array::uniform4(1u32..(1 << 30)),
            proptest::array::uniform4(0u8..4),
            mmsi.clone()
        )
            .prop_map(|(t, mm, sq, m)| {
                (
                    t,
                    Body::Acknowledge(Acknowledge {
                        mmsi: mm,
                        seqno: sq,
                    }),
                    m,
                )
            }),
        (2u16..1024, any::<u8>(), bin(952), mmsi.clone()).prop_map(|(dac, fid, data, m)| {
            (
                8,
                Body::BroadcastBinary(BroadcastBinary {
                    header: BroadcastBinaryHeader { dac, fid: fid & 63 },
                    data,
                    application: None,
                }),
                m,
            )
        }),
        (
            0u16..4096,
            0u16..1024,
            lat(),
            lon(),
            0u16..=3600,
            any::<(u8, u8, bool, bool, u32)>(),
            mmsi.clone()
        )
            .prop_map(|(alt, sp, la, lo, co, (sec, reg, asg, raim, radio), m)| {
                (
                    9,
                    Body::SarAircraftPositionReport(SarAircraftPositionReport {
                        alt,
                        speed: sp,
                        accuracy: raim,
                        lon: lo,
                        lat: la,
                        course: co,
                        second: sec & 63,
                        regional: reg,
                        dte: 0,
                        assigned: asg,
                        raim,
                        radio: radio & 0xfffff,
                    }),
                    m,
                )
            }),
        (0u32..(1 << 30), mmsi.clone()).prop_map(|(d, m)| (
            10,
            Body::UtcInquiry(UtcInquiry { dest_mmsi: d }),
            m
        )),
        (
            0u8..4,
            0u32..(1 << 30),
            any::<bool>(),
            text::<156>(),
            mmsi.clone()
        )
            .prop_map(|(s, d, r, t, m)| {
                (
                    12,
                    Body::AddressedSafety(AddressedSafety {
                        seqno: s,
                        dest_mmsi: d,
                        retransmit: r,
                        text: AisText::from_str_lossy(t.as_str()),
                    }),
                    m,
                )
            }),
        (text::<161>(), mmsi.clone()).prop_map(|(t, m)| (
            14,
            Body::BroadcastSafety(BroadcastSafety {
                text: AisText::from_str_lossy(t.as_str())
            }),
            m
        )),
        (
            1u32..(1 << 30),
            0u8..64,
            0u16..4096,
            0u8..64,
            0u16..4096,
            1u32..(1 << 30),
            0u8..64,
            0u16..4096,
            mmsi.clone()
        )
            .prop_map(|(m1, t11, o11, t12, o12, m2, t21, o21, m)| {
                (
                    15,
                    Body::Interrogation(Interrogation {
                        mmsi1: m1,
                        type1_1: t11,
                        offset1_1: o11,
                        type1_2: t12,
                        offset1_2: o12,
                        mmsi2: m2,
                        type2_1: t21,
                        offset2_1: o21,
                    }),
                    m,
                )
            }),
        (
            1u32..(1 << 30),
            0u16..4096,
            0u16..1024,
            1u32..(1 << 30),
            0u16..4096,
            0u16..1024,
            mmsi.clone()
        )
            .prop_map(|(m1, o1, i1, m2, o2, i2, m)| {
                (
                    16,
                    Body::AssignedMode(AssignedMode {
                        mmsi1: m1,
                        offset1: o1,
                        increment1: i1,
                        mmsi2: m2,
                        offset2: o2,
                        increment2: i2,
                    }),
                    m,
                )
            }),
        (
            -108_600..=108_600i32,
            -54_600..=54_600i32,
            bin(736),
            mmsi.clone()
        )
            .prop_map(|(lo, la, data, m)| {
                (
                    17,
                    Body::GnssBroadcast(GnssBroadcast {
                        lon: lo,
                        lat: la,
                        data,
                    }),
                    m,
                )
            }),
        (
            any::<(u8, u16, bool, bool, bool, bool)>(),
            lat(),
            lon(),
            0u16..=3600,
            0u16..=511,
            any::<(u8, u8, bool, bool, bool, u32)>(),
            mmsi.clone()
        )
            .prop_map(
                |(
                    (res, sp, acc, cs, disp, dsc),
                    la,
                    lo,
                    co,
                    hd,
                    (sec, reg, band, m22, raim, radio),
                    m,
                )| {
                    (
                        18,
                        Body::ClassBPositionReport(ClassBPositionReport {
                            reserved: res,
                            speed: sp & 1023,
                            accuracy: acc,
                            lon: lo,
                            lat: la,
                            course: co,
                            heading: hd,
                            second: sec & 63,
                            regional: reg & 3,
                            cs,
                            display: disp,
                            dsc,
                            band,
                            msg22: m22,
                            assigned: acc,
                            raim,
                            radio: radio & 0xfffff,
                        }),
                        m,
                    )
                }
            ),
        (
            any::<(u8, u16, bool)>(),
            lat(),
            lon(),
            0u16..=3600,
            0u16..=511,
            text::<20>(),
            any::<(u8, u16, u16, u8, u8, u8)>(),
            mmsi.clone()
        )
            .prop_map(
                |((res, sp, acc), la, lo, co, hd, name, (st, b, s, p, sb, e), m)| {
                    (
                        19,
                        Body::ExtendedClassBPositionReport(ExtendedClassBPositionReport {
                            reserved: res,
                            speed: sp & 1023,
                            accuracy: acc,
                            lon: lo,
                            lat: la,
                            course: co,
                            heading: hd,
                            second: 60,
                            regional: 0,
                            shipname: name,
                            shiptype: st,
                            to_bow: b & 511,
                            to_stern: s & 511,
                            to_port: p & 63,
                            to_starboard: sb & 63,
                            epfd: e & 15,
                            raim: acc,
                            dte: !acc,
                            assigned: false,
                        }),
                        m,
                    )
                }
            ),
        (
            proptest::collection::vec((1u16..4096, 0u8..16, 0u8..8, 0u16..2048), 1..=4),
            mmsi.clone()
        )
            .prop_map(|(rs, m)| {
                let mut d = DataLinkManagement::default();
                for (i, (o, n, t, inc)) in rs.into_iter().enumerate() {
                    d.reservations[i] = SlotReservation {
                        offset: o,
                        number: n,
                        timeout: t,
                        increment: inc,
                    };
                }
                (20, Body::DataLinkManagement(d), m)
            }),
        (
            0u8..32,
            "[A-Z0-9 ]{0,34}",
            lat(),
            lon(),
            any::<(u16, u16, u8, u8, u8, u8)>(),
            any::<(bool, u8, bool, bool)>(),
            mmsi.clone()
        )
            .prop_map(
                |(at, name, la, lo, (b, s, p, sb, e, sec), (off, reg, raim, virt), m)| {
                    let fields = AidToNavigationFields {
                        aid_type: at,
                        accuracy: raim,
                        lon: lo,
                        lat: la,
                        to_bow: b & 511,
                        to_stern: s & 511,
                        to_port: p & 63,
                        to_starboard: sb & 63,
                        epfd: e & 15,
                        second: sec & 63,
                        off_position: off,
                        regional: reg,
                        raim,
                        virtual_aid: virt,
                        assigned: false,
                    };
                    (
                        21,
                        Body::AidToNavigation(AidToNavigation {
                            fields,
                            name: AisText::from_str_lossy(name.trim_end()),
                        }),
                        m,
                    )
                }
            ),
        (
            any::<(u16, u16, u8, bool, bool, bool, bool, u8)>(),
            -108_600..=108_600i32,
            -54_600..=54_600i32,
            1u32..(1 << 30),
            mmsi.clone()
        )
            .prop_map(|((a, b, tr, pw, addr, ba, bb, zs), lo, la, dm, m)| {
                let common = ChannelManagementCommon {
                    channel_a: a & 4095,
                    channel_b: b & 4095,
                    txrx: tr & 15,
                    power: pw,
                    addressed: addr,
                    band_a: ba,
                    band_b: bb,
                    zonesize: zs & 7,
                };
                let cm = if addr {
                    ChannelManagement {
                        common,
                        destinations: ChannelDestinations {
                            dest1: dm,
                            dest2: dm / 2,
                        },
                        ..Default::default()
                    }
                } else {
                    ChannelManagement {
                        common,
                        area: ChannelArea {
                            ne_lon: lo,
                            ne_lat: la,
                            sw_lon: lo / 2,
                            sw_lat: la / 2,
                        },
                        ..Default::default()
                    }
                };
                (22, Body::ChannelManagement(cm), m)
            }),
        (
            -108_600..=108_600i32,
            -54_600..=54_600i32,
            any::<(u8, u8, u8, u8, u8)>(),
            mmsi.clone()
        )
            .prop_map(|(lo, la, (st, sh, tr, iv, q), m)| {
                (
                    23,
                    Body::GroupAssignment(GroupAssignment {
                        ne_lon: lo,
                        ne_lat: la,
                        sw_lon: lo / 3,
                        sw_lat: la / 3,
                        stationtype: st & 15,
                        shiptype: sh,
                        txrx: tr & 3,
                        interval: iv & 15,
                        quiet: q & 15,
                    }),
                    m,
                )
            }),
        (text::<20>(), mmsi.clone()).prop_map(|(n, m)| (
            24,
            Body::StaticDataReport(StaticDataReport::PartA(StaticDataPartA { shipname: n })),
            m
        )),
        (
            any::<(u8, u8, u32, u16, u16, u8, u8)>(),
            text::<3>(),
            text::<7>(),
            prop_oneof![
                Just(980_000_000u32..990_000_000),
                Just(200_000_000u32..800_000_000)
            ]
            .prop_flat_map(|r| r)
        )
            .prop_map(|((st, md, ser, b, s, p, sb), vid, cs, m)| {
                let aux = is_auxiliary_mmsi(m);
                let part = StaticDataPartB {
                    common: StaticDataPartBCommon {
                        shiptype: st,
                        vendorid: vid,
                        model: md & 15,
                        serial: ser & 0xfffff,
                        callsign: cs,
                    },
                    dim: if aux {
                        Dimensions::default()
                    } else {
                        Dimensions {
                            to_bow: b & 511,
                            to_stern: s & 511,
                            to_port: p & 63,
                            to_starboard: sb & 63,
                        }
                    },
                    mothership_mmsi: if aux { ser & 0x3fff_ffff } else { 0 },
                };
                (24, Body::StaticDataReport(StaticDataReport::PartB(part)), m)
            }),
        (
            any::<(bool, bool, u16)>(),
            1u32..(1 << 30),
            mmsi.clone(),
            0usize..=82
        )
            .prop_flat_map(|((a, s, app), dm, m, max)| {
                let room = 168 - SlotBinary::header_bits(a, s);
                (Just((a, s, app, dm, m)), bin(room.min(max + 40)))
            })
            .prop_map(|((a, s, app, dm, m), data)| {
                (
                    25,
                    Body::SingleSlotBinary(SlotBinary {
                        addressed: a,
                        structured: s,
                        dest_mmsi: if a { dm } else { 0 },
                        app_id: if s { app } else { 0 },
                        data,
                        radio: 0,
                    }),
                    m,
                )
            }),
        (
            any::<(bool, bool, u16, u32)>(),
            1u32..(1 << 30),
            mmsi.clone(),
            bin(900)
        )
            .prop_map(|((a, s, app, radio), dm, m, data)| {
                (
                    26,
                    Body::MultiSlotBinary(SlotBinary {
                        addressed: a,
                        structured: s,
                        dest_mmsi: if a { dm } else { 0 },
                        app_id: if s { app } else { 0 },
                        data,
                        radio: radio & 0xfffff,
                    }),
                    m,
                )
            }),
        (
            any::<(bool, bool, u8, u8, u16, bool)>(),
            -108_600..=108_600i32,
            -54_600..=54_600i32,
            mmsi
        )
            .prop_map(|((acc, raim, st, sp, co, g), lo, la, m)| {
                (
                    27,
                    Body::LongRangeBroadcast(LongRangeBroadcast {
                        accuracy: acc,
                        raim,
                        status: st & 15,
                        lon: lo,
                        lat: la,
                        speed: sp & 63,
                        course: co & 511,
                        gnss: g,
                    }),
                    m,
                )
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn encode_then_decode_is_identity((msg_type, body, mmsi) in body(), repeat in 0u8..4, secs in 1_500_000_000i64..1_900_000_000, seq in 0u8..10) {
        let msg = AisMessage { header: Header { msg_type, repeat, mmsi }, body };
        let opts = EncodeOptions { received: Some(Timestamp::from_unix_seconds(secs)), station: Some("test"), sequence_id: seq, group_id: 7, ..Default::default() };
        let mut nmea = Vec::new();
        encode_nmea(&msg, &opts, &mut nmea);
        let (out, stats) = decode_bytes(&nmea, DecoderConfig::default());
        prop_assert_eq!(stats.rejected_total(), 0, "{}", String::from_utf8_lossy(&nmea));
        prop_assert_eq!(out.messages.len(), 1);
        let got = &out.messages[0];
        prop_assert_eq!(&got.message, &msg, "{}", String::from_utf8_lossy(&nmea));
        prop_assert_eq!(got.meta.received, Some(Timestamp::from_unix_seconds(secs)));
        prop_assert_eq!(got.meta.station.as_str(), "test");
    }
}
