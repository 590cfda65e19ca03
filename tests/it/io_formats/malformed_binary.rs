//! One test per class of malformed binary input (`.npy`, `.npz`), asserting the error's kind,
//! location and that its message names the problem.

use super::expect;
use super::npy::raw_npy;
use super::npz::{Member, build_zip};
use super::scratch;
use neurodyn::io::{
    Array, DataErrorKind as K, npy_to_bytes, parse_npy, parse_npz, read_npy, read_npz,
};

fn f64_npy(shape: &str, n: usize) -> Vec<u8> {
    raw_npy(1, "<f8", false, shape, &vec![0u8; 8 * n])
}

#[test]
fn npy_empty_magic_and_truncated_header() {
    let h = Some("header");
    expect(parse_npy(b""), K::Truncated, h, "the input is empty");
    expect(parse_npy(b"PK\x03\x04"), K::BadMagic, h, "not an .npy file");
    expect(parse_npy(b"\x93NUM"), K::Truncated, h, "inside the magic");
    expect(
        parse_npy(b"\x93NUMPY\x04\x00\x10\x00"),
        K::Unsupported,
        h,
        "version 4.0",
    );
    expect(
        parse_npy(b"\x93NUMPY\x01\x00\x10"),
        K::Truncated,
        h,
        "inside the header length",
    );
    let good = f64_npy("(2,)", 2);
    expect(
        parse_npy(&good[..40]),
        K::Truncated,
        h,
        "the header claims 118 bytes",
    );
}

#[test]
fn npy_bad_header_dicts() {
    let h = Some("header");
    let with = |dict: &str| {
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        v.extend_from_slice(dict.as_bytes());
        v
    };
    expect(
        parse_npy(&with("{'descr': '<f8', ")),
        K::BadHeader,
        h,
        "ends early",
    );
    expect(
        parse_npy(&with("[1, 2]")),
        K::BadHeader,
        h,
        "not a dict literal",
    );
    expect(
        parse_npy(&with("{'descr': '<f8', 'shape': ()}")),
        K::BadHeader,
        h,
        "no 'fortran_order' key",
    );
    expect(
        parse_npy(&with("{'descr': '<f8', 'fortran_order': 0, 'shape': ()}")),
        K::BadHeader,
        h,
        "not True or False",
    );
    expect(
        parse_npy(&with(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
        )),
        K::BadHeader,
        h,
        "unexpected character '-'",
    );
    expect(
        parse_npy(&with(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,) @}",
        )),
        K::BadHeader,
        h,
        "expected '}'",
    );
}

#[test]
fn npy_unsupported_dtypes() {
    let h = Some("header");
    expect(
        parse_npy(&raw_npy(1, ">f8", false, "(1,)", &[0; 8])),
        K::Unsupported,
        h,
        "big-endian arrays are not supported ('>f8'); convert with arr.astype('<f8')",
    );
    expect(
        parse_npy(&raw_npy(1, "|O", false, "(1,)", &[0; 8])),
        K::Unsupported,
        h,
        "object arrays",
    );
    expect(
        parse_npy(&raw_npy(1, "<c16", false, "(1,)", &[0; 16])),
        K::Unsupported,
        h,
        "complex",
    );
    expect(
        parse_npy(&raw_npy(1, "<f2", false, "(1,)", &[0; 2])),
        K::Unsupported,
        h,
        "'<f2' is not supported",
    );
    let mut structured = b"\x93NUMPY\x01\x00".to_vec();
    let d = "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}";
    structured.extend_from_slice(&(d.len() as u16).to_le_bytes());
    structured.extend_from_slice(d.as_bytes());
    expect(parse_npy(&structured), K::Unsupported, h, "structured");
}

#[test]
fn npy_shape_and_data_length() {
    let d = Some("data");
    let mut extra = f64_npy("(2, 2)", 4);
    extra.extend_from_slice(&[0; 8]);
    expect(
        parse_npy(&extra),
        K::ShapeMismatch,
        d,
        "needs 32 bytes of data but 40 follow",
    );
    let mut short = f64_npy("(2, 2)", 4);
    short.truncate(short.len() - 3);
    expect(
        parse_npy(&short),
        K::Truncated,
        d,
        "(32 bytes) but only 29 bytes",
    );
}

#[test]
fn npy_huge_claimed_sizes_fail_before_allocating() {
    // 10^12 elements of 8 bytes claimed, 16 present: an error, not an 8 TB allocation.
    let huge = f64_npy("(1000000, 1000000)", 2);
    expect(
        parse_npy(&huge),
        K::Truncated,
        Some("data"),
        "(8000000000000 bytes) but only 16",
    );
    // Element count overflows usize; then bytes overflow.
    let over = f64_npy("(4294967296, 4294967296, 4294967296)", 0);
    expect(
        parse_npy(&over),
        K::BadHeader,
        Some("header"),
        "more elements than can be addressed",
    );
    let over_bytes = f64_npy("(4611686018427387904,)", 0);
    expect(
        parse_npy(&over_bytes),
        K::Truncated,
        Some("data"),
        "more than 2^64",
    );
    let many_axes = f64_npy(&format!("({})", vec!["1"; 65].join(", ")), 1);
    expect(
        parse_npy(&many_axes),
        K::BadHeader,
        Some("header"),
        "65 axes",
    );
}

#[test]
fn npy_errors_from_paths_name_the_file() {
    let dir = scratch("malformed-paths");
    let p = dir.join("broken.npy");
    std::fs::write(&p, b"\x93NUMPY\x01\x00").unwrap();
    let e = read_npy(&p).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}: header: ", p.display())),
        "{e}"
    );
    let e = read_npz(dir.join("absent.npz")).unwrap_err();
    assert_eq!(e.kind, K::Io(std::io::ErrorKind::NotFound));
    assert!(e.to_string().contains("absent.npz: cannot read"), "{e}");
}

#[test]
fn npz_container_errors() {
    expect(parse_npz(b""), K::Truncated, None, "the input is empty");
    expect(
        parse_npz(b"\x93NUMPY"),
        K::BadMagic,
        None,
        "not a zip archive",
    );
    let arr = npy_to_bytes(&Array::from_matrix(2, 2, vec![1.0; 4]).unwrap()).unwrap();
    let zip = build_zip(&[Member {
        name: "x.npy",
        method: 0,
        data: &arr,
        crc: None,
    }]);
    expect(
        parse_npz(&zip[..zip.len() - 30]),
        K::Truncated,
        None,
        "no end-of-central-directory",
    );
    let bad_crc = build_zip(&[Member {
        name: "x.npy",
        method: 0,
        data: &arr,
        crc: Some(7),
    }]);
    expect(
        parse_npz(&bad_crc),
        K::Checksum,
        Some("member x.npy"),
        "CRC-32 mismatch",
    );
    let bzip = build_zip(&[Member {
        name: "y.npy",
        method: 12,
        data: &arr,
        crc: None,
    }]);
    expect(
        parse_npz(&bzip),
        K::Unsupported,
        Some("member y.npy"),
        "method 12 (bzip2)",
    );
    let text = build_zip(&[Member {
        name: "notes.txt",
        method: 0,
        data: b"hello",
        crc: None,
    }]);
    expect(
        parse_npz(&text),
        K::BadMagic,
        Some("member notes.txt, header"),
        "not an .npy",
    );
    let be = raw_npy(1, ">f8", false, "(1,)", &[0; 8]);
    let be = build_zip(&[Member {
        name: "b.npy",
        method: 8,
        data: &be,
        crc: None,
    }]);
    expect(
        parse_npz(&be),
        K::Unsupported,
        Some("member b.npy, header"),
        "big-endian",
    );
    // Multi-disk: set "number of this disk" in the EOCD.
    let mut split = zip.clone();
    let eocd = split.len() - 22;
    split[eocd + 4] = 1;
    expect(parse_npz(&split), K::Unsupported, None, "multi-disk");
    // A central directory pointing past the end of the file.
    let mut far = zip.clone();
    far[eocd + 16..eocd + 20].copy_from_slice(&u32::MAX.to_le_bytes());
    expect(
        parse_npz(&far),
        K::Corrupt,
        None,
        "central directory lies outside",
    );
}

#[test]
fn npz_deflate_bombs_and_broken_streams() {
    let arr = npy_to_bytes(&Array::from_matrix(1, 1, vec![1.0]).unwrap()).unwrap();
    let zip = build_zip(&[Member {
        name: "z.npy",
        method: 8,
        data: &arr,
        crc: None,
    }]);
    // Claim a 4 GiB member: more than deflate can produce from so few bytes.
    let cd = u32::from_le_bytes(zip[zip.len() - 6..zip.len() - 2].try_into().unwrap()) as usize;
    let mut bomb = zip.clone();
    bomb[cd + 24..cd + 28].copy_from_slice(&u32::MAX.to_le_bytes());
    expect(
        parse_npz(&bomb),
        K::Corrupt,
        Some("member z.npy"),
        "more than deflate can produce",
    );
    // Corrupt the deflate stream itself.
    let mut broken = zip.clone();
    let start = 30 + "z.npy".len();
    broken[start] = 0xFF; // block type 3 (reserved)
    expect(
        parse_npz(&broken),
        K::Corrupt,
        Some("member z.npy"),
        "bad deflate stream",
    );
    // Two central entries sharing one member's bytes: refused before inflating either.
    let twice = build_zip(&[
        Member {
            name: "a.npy",
            method: 0,
            data: &arr,
            crc: None,
        },
        Member {
            name: "b.npy",
            method: 0,
            data: &arr,
            crc: None,
        },
    ]);
    let cd =
        u32::from_le_bytes(twice[twice.len() - 6..twice.len() - 2].try_into().unwrap()) as usize;
    let mut shared = twice.clone();
    let second = cd + 46 + "a.npy".len();
    shared[second + 42..second + 46].copy_from_slice(&0u32.to_le_bytes());
    shared[second + 20..second + 24].copy_from_slice(&(twice.len() as u32).to_le_bytes());
    expect(parse_npz(&shared), K::Corrupt, None, "overlapping members");
}
