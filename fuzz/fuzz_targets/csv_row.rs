//! Arbitrary rows under each CSV archive header: never panics, and every row
//! is either turned into messages or reported as rejected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shadowfleet_ingest::{CsvLayout, CsvReader};

const HEADERS: [(&str, CsvLayout); 3] = [
    ("# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,ETA,Data source type\n", CsvLayout::Dma22),
    ("# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,ETA,Data source type,A,B,C,D\n", CsvLayout::Dma26),
    ("MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass\n", CsvLayout::Noaa),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rows)) = data.split_first() else { return };
    let (header, layout) = &HEADERS[selector as usize % HEADERS.len()];
    let mut input = header.as_bytes().to_vec();
    input.extend_from_slice(rows);
    let mut out = Vec::new();
    let _ = CsvReader::new(layout.clone()).read_all(&input[..], "fuzz.csv", &mut out);
    // The same rows under a header the column recognition reads (semicolons, epoch ms),
    // sorted by time first.
    let mut generic = b"mmsi;ts_ms;latitude;longitude;speed;course;ship type\n".to_vec();
    generic.extend_from_slice(rows);
    if let Ok(Some(layout)) = shadowfleet_ingest::detect_csv(&generic, &[]) {
        let _ = CsvReader::new(layout).sorted(1 << 12).read_all(&generic[..], "fuzz.csv", &mut out);
    }
});
