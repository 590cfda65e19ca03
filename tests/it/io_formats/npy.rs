//! `.npy` round trips (every written dtype, shapes incl. 0-d, empty and 1-element), Fortran
//! order, header versions and narrow dtypes on read.

use super::scratch;
use neurodyn::io::{Array, ArrayData, npy_to_bytes, parse_npy, read_npy, write_npy};
use proptest::prelude::*;

/// A shape of 0–4 axes, each 0–5 long.
pub fn arb_shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0usize..6, 0..5)
}

/// A random array of a random written dtype (all float bit patterns, NaN included).
pub fn arb_array() -> impl Strategy<Value = Array> {
    arb_shape().prop_flat_map(|shape| {
        let n: usize = shape.iter().product();
        use proptest::collection::vec;
        let data = prop_oneof![
            vec(any::<f32>(), n).prop_map(ArrayData::F32),
            vec(any::<f64>(), n).prop_map(ArrayData::F64),
            vec(any::<i64>(), n).prop_map(ArrayData::I64),
            vec(any::<u64>(), n).prop_map(ArrayData::U64),
            vec(any::<bool>(), n).prop_map(ArrayData::Bool),
        ];
        (Just(shape), data).prop_map(|(shape, data)| Array { shape, data })
    })
}

/// Equality with floats compared bit for bit (so NaN payloads and −0 count).
pub fn same(a: &Array, b: &Array) -> bool {
    a.shape == b.shape
        && match (&a.data, &b.data) {
            (ArrayData::F32(x), ArrayData::F32(y)) => x
                .iter()
                .map(|v| v.to_bits())
                .eq(y.iter().map(|v| v.to_bits())),
            (ArrayData::F64(x), ArrayData::F64(y)) => x
                .iter()
                .map(|v| v.to_bits())
                .eq(y.iter().map(|v| v.to_bits())),
            (x, y) => x == y,
        }
}

/// A hand-built `.npy` file: any version, dtype, order and raw data.
pub fn raw_npy(version: u8, descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let f = if fortran { "True" } else { "False" };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}");
    let prefix = if version == 1 { 10 } else { 12 };
    while (prefix + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(h.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn round_trip_bytes(a in arb_array()) {
        let bytes = npy_to_bytes(&a).unwrap();
        // numpy's layout: the data starts at a multiple of 64, the header ends in '\n'.
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        prop_assert_eq!((10 + header_len) % 64, 0);
        prop_assert_eq!(bytes[10 + header_len - 1], b'\n');
        let b = parse_npy(&bytes).unwrap();
        prop_assert!(same(&a, &b), "{:?} vs {:?}", a, b);
    }

    #[test]
    fn fortran_order_is_converted_to_row_major(
        shape in proptest::collection::vec(1usize..5, 0..4), seed in any::<u64>()
    ) {
        let n: usize = shape.iter().product();
        let c: Vec<f64> = (0..n).map(|i| (i as f64) + (seed % 1000) as f64 * 1e-3).collect();
        // Element at row-major offset `o` with multi-index idx goes to its Fortran offset.
        let mut f = vec![0.0; n];
        for (o, &v) in c.iter().enumerate() {
            let (mut rem, mut fo, mut stride) = (o, 0, 1);
            let mut idx = vec![0; shape.len()];
            for k in (0..shape.len()).rev() {
                idx[k] = rem % shape[k];
                rem /= shape[k];
            }
            for k in 0..shape.len() {
                fo += idx[k] * stride;
                stride *= shape[k];
            }
            f[fo] = v;
        }
        let s = match shape.len() {
            0 => "()".to_string(),
            1 => format!("({},)", shape[0]),
            _ => format!("({})", shape.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")),
        };
        let a = parse_npy(&raw_npy(1, "<f8", true, &s, &f64_bytes(&f))).unwrap();
        prop_assert_eq!(a.shape, shape);
        prop_assert_eq!(a.data, ArrayData::F64(c));
    }
}

#[test]
fn round_trip_files_and_edge_shapes() {
    let dir = scratch("npy-files");
    let cases = [
        Array::new(vec![], ArrayData::F64(vec![2.5])).unwrap(),
        Array::new(vec![1], ArrayData::F32(vec![-0.0])).unwrap(),
        Array::new(vec![0], ArrayData::I64(vec![])).unwrap(),
        Array::new(vec![3, 0, 2], ArrayData::Bool(vec![])).unwrap(),
        Array::new(vec![1, 1], ArrayData::Bool(vec![true])).unwrap(),
        Array::from_matrix(
            2,
            3,
            vec![1.0, f64::NAN, f64::INFINITY, -1e300, 1e-310, 0.1],
        )
        .unwrap(),
    ];
    for (i, a) in cases.iter().enumerate() {
        let p = dir.join(format!("a{i}.npy"));
        write_npy(&p, a).unwrap();
        assert!(same(a, &read_npy(&p).unwrap()), "case {i}");
    }
    // Nothing but the files themselves is left behind (no temporaries).
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), cases.len());
}

#[test]
fn narrow_dtypes_versions_and_byte_order_marks() {
    let cases: [(&str, Vec<u8>, ArrayData); 9] = [
        ("|i1", vec![0xFF, 0x7F], ArrayData::I64(vec![-1, 127])),
        ("|u1", vec![0xFF, 0x7F], ArrayData::U64(vec![255, 127])),
        (
            "<i2",
            vec![0xFE, 0xFF, 0x00, 0x80],
            ArrayData::I64(vec![-2, -32768]),
        ),
        (
            "<u2",
            vec![0xFE, 0xFF, 0x00, 0x80],
            ArrayData::U64(vec![65534, 32768]),
        ),
        (
            "<i4",
            [(-5i32).to_le_bytes(), 7i32.to_le_bytes()].concat(),
            ArrayData::I64(vec![-5, 7]),
        ),
        (
            "<u4",
            [u32::MAX.to_le_bytes(), 7u32.to_le_bytes()].concat(),
            ArrayData::U64(vec![u32::MAX as u64, 7]),
        ),
        (
            "=f4",
            [1.5f32.to_le_bytes(), (-2f32).to_le_bytes()].concat(),
            ArrayData::F32(vec![1.5, -2.0]),
        ),
        ("|b1", vec![0, 1], ArrayData::Bool(vec![false, true])),
        (">u1", vec![3, 4], ArrayData::U64(vec![3, 4])),
    ];
    for version in [1, 2, 3] {
        for (descr, bytes, want) in &cases {
            let a = parse_npy(&raw_npy(version, descr, false, "(2,)", bytes))
                .unwrap_or_else(|e| panic!("{descr} v{version}: {e}"));
            assert_eq!(
                (&a.shape[..], &a.data),
                (&[2][..], want),
                "{descr} v{version}"
            );
        }
    }
    // Version 3.0 allows UTF-8 in the header (an extra key here, which readers ignore).
    let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'é': 0}\n";
    let mut v3 = b"\x93NUMPY\x03\x00".to_vec();
    v3.extend_from_slice(&(h.len() as u32).to_le_bytes());
    v3.extend_from_slice(h.as_bytes());
    v3.extend_from_slice(&f64_bytes(&[4.0]));
    assert_eq!(parse_npy(&v3).unwrap().to_f64_vec(), [4.0]);
    // … but version 1.0 must be ASCII.
    v3[6] = 1;
    let mut v1 = v3[..8].to_vec();
    v1.extend_from_slice(&(h.len() as u16).to_le_bytes());
    v1.extend_from_slice(&v3[12..]);
    let e = parse_npy(&v1).unwrap_err();
    assert!(e.message.contains("not ASCII"), "{e}");
}

#[test]
fn conversions() {
    let a = Array::new(vec![2, 2], ArrayData::I64(vec![1, -2, 3, 4])).unwrap();
    assert_eq!(a.to_f64_vec(), [1.0, -2.0, 3.0, 4.0]);
    assert_eq!(a.to_f32_vec(), [1.0, -2.0, 3.0, 4.0]);
    assert_eq!(
        a.as_matrix::<f32>().unwrap(),
        (2, 2, vec![1.0, -2.0, 3.0, 4.0])
    );
    let v = Array::new(vec![3], ArrayData::Bool(vec![true, false, true])).unwrap();
    assert_eq!(v.as_matrix::<f64>().unwrap(), (3, 1, vec![1.0, 0.0, 1.0]));
    let cube = Array::new(vec![1, 1, 1], ArrayData::F64(vec![0.0])).unwrap();
    let e = cube.as_matrix::<f64>().unwrap_err();
    assert!(e.message.contains("at most 2 axes"), "{e}");
    let e = Array::new(vec![2, 2], ArrayData::F64(vec![0.0])).unwrap_err();
    assert!(
        e.message
            .contains("shape [2, 2] does not match the 1 elements"),
        "{e}"
    );
}
