//! `.npz` round trips, deflated members (as `np.savez_compressed` writes), and a zip builder
//! independent of the library's (bitwise CRC-32, miniz_oxide deflate) for hand-made archives.

use super::npy::{arb_array, same};
use super::scratch;
use neurodyn::io::{
    Array, ArrayData, DataErrorKind, npy_to_bytes, npz_to_bytes, parse_npz, read_npz, write_npz,
};
use proptest::prelude::*;

/// CRC-32 bit by bit (the definition, not the library's table).
pub fn crc32_bitwise(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A member of a hand-built archive.
pub struct Member<'a> {
    pub name: &'a str,
    /// 0 stored, 8 deflate, anything else written as stored bytes with that method number.
    pub method: u16,
    pub data: &'a [u8],
    /// Overrides the CRC written (to make a corrupt archive).
    pub crc: Option<u32>,
}

/// A zip archive built by hand, with the members' local headers, central directory and EOCD.
pub fn build_zip(members: &[Member<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cd = Vec::new();
    for m in members {
        let body = if m.method == 8 {
            miniz_oxide::deflate::compress_to_vec(m.data, 6)
        } else {
            m.data.to_vec()
        };
        let crc = m.crc.unwrap_or_else(|| crc32_bitwise(m.data));
        let offset = out.len() as u32;
        let mut common = Vec::new();
        for v in [20u16, 0, m.method, 0, 0x21] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, body.len() as u32, m.data.len() as u32] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        common.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&common);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(m.name.as_bytes());
        out.extend_from_slice(&body);
        cd.extend_from_slice(b"PK\x01\x02\x14\x00");
        cd.extend_from_slice(&common);
        cd.extend_from_slice(&[0; 12]);
        cd.extend_from_slice(&offset.to_le_bytes());
        cd.extend_from_slice(m.name.as_bytes());
    }
    let cd_off = out.len() as u32;
    out.extend_from_slice(&cd);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    let n = members.len() as u16;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip_bytes(arrays in proptest::collection::vec(arb_array(), 0..5)) {
        let names: Vec<String> = (0..arrays.len()).map(|i| format!("arr_{i}")).collect();
        let pairs: Vec<(&str, &Array)> = names.iter().map(|n| n.as_str()).zip(&arrays).collect();
        let bytes = npz_to_bytes(&pairs).unwrap();
        let npz = parse_npz(&bytes).unwrap();
        prop_assert_eq!(npz.names(), names.iter().map(|n| n.as_str()).collect::<Vec<_>>());
        for ((_, a), b) in npz.arrays.iter().zip(&arrays) {
            prop_assert!(same(a, b));
        }
    }

    #[test]
    fn deflated_members_are_read(a in arb_array(), b in arb_array()) {
        let (na, nb) = (npy_to_bytes(&a).unwrap(), npy_to_bytes(&b).unwrap());
        let zip = build_zip(&[
            Member { name: "a.npy", method: 8, data: &na, crc: None },
            Member { name: "b.npy", method: 0, data: &nb, crc: None },
        ]);
        let npz = parse_npz(&zip).unwrap();
        prop_assert!(same(npz.get("a").unwrap(), &a));
        prop_assert!(same(npz.get("b").unwrap(), &b));
    }
}

#[test]
fn round_trip_file_and_crcs_match_an_independent_crc() {
    let dir = scratch("npz-file");
    let x = Array::from_matrix(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let l = Array::new(vec![2], ArrayData::I64(vec![3, -1])).unwrap();
    let m = Array::new(vec![], ArrayData::Bool(vec![true])).unwrap();
    let p = dir.join("out.npz");
    write_npz(&p, &[("x", &x), ("labels.npy", &l), ("ünï", &m)]).unwrap();
    let npz = read_npz(&p).unwrap();
    // As with np.savez/np.load, a name ending in .npy keeps it (member labels.npy.npy).
    assert_eq!(npz.names(), ["x", "labels.npy", "ünï"]);
    assert_eq!(npz.get("x").unwrap(), &x);
    // The CRC in each local header equals the bitwise CRC of the member's data.
    let bytes = std::fs::read(&p).unwrap();
    let lh = &bytes[..30];
    let name_len = u16::from_le_bytes([lh[26], lh[27]]) as usize;
    let size = u32::from_le_bytes(lh[18..22].try_into().unwrap()) as usize;
    let data = &bytes[30 + name_len..30 + name_len + size];
    assert_eq!(
        u32::from_le_bytes(lh[14..18].try_into().unwrap()),
        crc32_bitwise(data)
    );
    assert_eq!(data, npy_to_bytes(&x).unwrap());
}

#[test]
fn writer_rejects_bad_names_and_inconsistent_arrays() {
    let x = Array::from_matrix(1, 1, vec![1.0]).unwrap();
    let e = npz_to_bytes(&[("a", &x), ("a", &x)]).unwrap_err();
    assert_eq!(e.kind, DataErrorKind::InvalidInput);
    assert!(e.message.contains("'a' is used twice"), "{e}");
    assert!(
        npz_to_bytes(&[("", &x)])
            .unwrap_err()
            .message
            .contains("empty")
    );
    let bad = Array {
        shape: vec![2],
        data: ArrayData::F64(vec![1.0]),
    };
    let e = npz_to_bytes(&[("bad", &bad)]).unwrap_err();
    assert_eq!(e.kind, DataErrorKind::ShapeMismatch);
    assert_eq!(e.location.as_deref(), Some("array bad"));
    // An empty archive is valid.
    assert!(
        parse_npz(&npz_to_bytes(&[]).unwrap())
            .unwrap()
            .arrays
            .is_empty()
    );
}
