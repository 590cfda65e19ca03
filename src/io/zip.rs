//! The subset of zip that `.npz` files use, read and written by hand.
//!
//! ```text
//! [local header + data] … [central directory entry] … [zip64 EOCD + locator]? [EOCD]
//! local header    PK\3\4  … method@8 … name len@26, extra len@28, name, extra, data
//! central entry   PK\1\2  … flags@8 method@10 crc@16 sizes@20,24 name/extra/comment lens@28..
//!                          local header offset@42, name, extra (zip64 sizes, id 0x0001), comment
//! EOCD            PK\5\6  disk@4 cd disk@6 entries@8,10 cd size@12 cd offset@16 comment len@20
//! ```
//!
//! Sizes, CRCs and offsets come from the central directory (numpy writes `0xFFFFFFFF` sizes plus
//! a zip64 extra field in its local headers). Zip64 records are read; split (multi-disk) and
//! encrypted archives are rejected. Members may be stored (method 0) or deflated (method 8).
//! The writer stores members uncompressed, with CRCs, and no zip64 (archives under 4 GiB).

use super::crc32::crc32;
use super::error::{DataError, DataErrorKind, err};
use std::borrow::Cow;

/// One member, as the central directory describes it.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub name: String,
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    uncompressed: u64,
    local_offset: u64,
}

/// Deflate cannot expand data by more than about 1032:1; a larger claimed ratio is corrupt.
const MAX_DEFLATE_RATIO: u64 = 1032;

fn rd<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)?.try_into().ok()
}
fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    rd(b, off).map(u16::from_le_bytes)
}
fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    rd(b, off).map(u32::from_le_bytes)
}
fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    rd(b, off).map(u64::from_le_bytes)
}
fn corrupt(msg: impl Into<String>) -> DataError {
    err(DataErrorKind::Corrupt, msg)
}
fn to_usize(x: u64) -> usize {
    usize::try_from(x).unwrap_or(usize::MAX)
}

/// Lists the members of a zip archive from its central directory.
pub(crate) fn entries(bytes: &[u8]) -> Result<Vec<Entry>, DataError> {
    if bytes.is_empty() {
        return Err(err(DataErrorKind::Truncated, "the input is empty"));
    }
    if !bytes.starts_with(b"PK") {
        return Err(err(
            DataErrorKind::BadMagic,
            "not a zip archive (an .npz file is a zip of .npy files and starts with \"PK\")",
        ));
    }
    let lo = bytes.len().saturating_sub(22 + 0xFFFF);
    let eocd = (lo..=bytes.len().saturating_sub(22))
        .rev()
        .find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| {
            err(
                DataErrorKind::Truncated,
                "no end-of-central-directory record: the archive is truncated or not a zip file",
            )
        })?;
    let f16 = |o| u64::from(u16_at(bytes, eocd + o).unwrap_or(0));
    let f32_ = |o| u64::from(u32_at(bytes, eocd + o).unwrap_or(0));
    let (mut disk, mut cd_disk, mut n_disk, mut n_total) = (f16(4), f16(6), f16(8), f16(10));
    let (mut cd_size, mut cd_off) = (f32_(12), f32_(16));
    let saturated = [disk, cd_disk, n_disk, n_total].contains(&0xFFFF)
        || [cd_size, cd_off].contains(&0xFFFF_FFFF);
    let locator = eocd
        .checked_sub(20)
        .filter(|&l| bytes[l..].starts_with(b"PK\x06\x07"));
    if let (true, Some(l)) = (saturated, locator) {
        let z = to_usize(u64_at(bytes, l + 8).unwrap_or(u64::MAX));
        if !bytes.get(z..).is_some_and(|s| s.starts_with(b"PK\x06\x06")) {
            return Err(corrupt(
                "the zip64 end-of-central-directory record is missing",
            ));
        }
        let g32 = |o| u32_at(bytes, z + o).map(u64::from);
        let g64 = |o| u64_at(bytes, z + o);
        let fields = (g32(16), g32(20), g64(24), g64(32), g64(40), g64(48));
        let (Some(a), Some(b), Some(c), Some(d), Some(e), Some(f)) = fields else {
            return Err(err(
                DataErrorKind::Truncated,
                "the zip64 end record is cut short",
            ));
        };
        (disk, cd_disk, n_disk, n_total, cd_size, cd_off) = (a, b, c, d, e, f);
    }
    if disk != 0 || cd_disk != 0 || n_disk != n_total {
        return Err(err(
            DataErrorKind::Unsupported,
            "split (multi-disk) zip archives are not supported; join the parts into one file",
        ));
    }
    let cd = cd_off
        .checked_add(cd_size)
        .and_then(|end| bytes.get(to_usize(cd_off)..to_usize(end)))
        .ok_or_else(|| corrupt("the central directory lies outside the file"))?;
    if n_total > cd_size / 46 {
        return Err(corrupt(format!(
            "the archive claims {n_total} members but its central directory has room for {}",
            cd_size / 46
        )));
    }
    let mut out = Vec::with_capacity(to_usize(n_total));
    let mut p = 0usize;
    let mut total = 0u64;
    for k in 0..n_total {
        let e =
            central_entry(cd, &mut p).map_err(|e| e.at(format!("central directory entry {k}")))?;
        // Members that share bytes would let a small file inflate many times over.
        total = total.saturating_add(e.compressed);
        if total > bytes.len() as u64 {
            return Err(corrupt(format!(
                "member '{}': the members' sizes add up to more than the file holds (overlapping members)",
                e.name
            )));
        }
        out.push(e);
    }
    Ok(out)
}

/// Parses the central-directory entry at `*p`, advancing `*p` past it.
fn central_entry(cd: &[u8], p: &mut usize) -> Result<Entry, DataError> {
    let short = || err(DataErrorKind::Truncated, "the entry is cut short");
    let s = *p;
    if !cd.get(s..).is_some_and(|c| c.starts_with(b"PK\x01\x02")) {
        return Err(corrupt("bad central directory signature"));
    }
    let g16 = |o| u16_at(cd, s + o).ok_or_else(short);
    let g32 = |o| u32_at(cd, s + o).ok_or_else(short);
    let (flags, method, crc) = (g16(8)?, g16(10)?, g32(16)?);
    let (mut compressed, mut uncompressed) = (u64::from(g32(20)?), u64::from(g32(24)?));
    let (n, x, c) = (
        usize::from(g16(28)?),
        usize::from(g16(30)?),
        usize::from(g16(32)?),
    );
    let mut local_offset = u64::from(g32(42)?);
    let name = cd.get(s + 46..s + 46 + n).ok_or_else(short)?;
    let extra = cd.get(s + 46 + n..s + 46 + n + x).ok_or_else(short)?;
    *p = s + 46 + n + x + c;
    if *p > cd.len() {
        return Err(short());
    }
    // Zip64 extended information: the saturated fields, in this order, follow the header id.
    let mut q = 0;
    while let (Some(id), Some(len)) = (u16_at(extra, q), u16_at(extra, q + 2)) {
        let body = extra.get(q + 4..q + 4 + usize::from(len)).unwrap_or(&[]);
        if id == 1 {
            let mut r = 0;
            for field in [&mut uncompressed, &mut compressed, &mut local_offset] {
                if *field == 0xFFFF_FFFF {
                    *field = u64_at(body, r).ok_or_else(|| corrupt("short zip64 extra field"))?;
                    r += 8;
                }
            }
        }
        q += 4 + usize::from(len);
    }
    Ok(Entry {
        name: String::from_utf8_lossy(name).into_owned(),
        flags,
        method,
        crc,
        compressed,
        uncompressed,
        local_offset,
    })
}

/// The uncompressed, CRC-checked contents of member `e`.
pub(crate) fn extract<'a>(bytes: &'a [u8], e: &Entry) -> Result<Cow<'a, [u8]>, DataError> {
    if e.flags & 1 != 0 {
        return Err(err(
            DataErrorKind::Unsupported,
            "the member is encrypted; encrypted archives are not supported",
        ));
    }
    let lh = to_usize(e.local_offset);
    if !bytes
        .get(lh..)
        .is_some_and(|s| s.starts_with(b"PK\x03\x04"))
    {
        return Err(corrupt(
            "no local header at the offset the central directory gives",
        ));
    }
    let n = usize::from(u16_at(bytes, lh + 26).unwrap_or(0));
    let x = usize::from(u16_at(bytes, lh + 28).unwrap_or(0));
    let start = lh + 30 + n + x;
    let data = start
        .checked_add(to_usize(e.compressed))
        .and_then(|end| bytes.get(start..end))
        .ok_or_else(|| {
            err(
                DataErrorKind::Truncated,
                format!(
                    "the member's {} bytes of data run past the end of the file",
                    e.compressed
                ),
            )
        })?;
    let out: Cow<'a, [u8]> = match e.method {
        0 if e.compressed == e.uncompressed => Cow::Borrowed(data),
        0 => {
            return Err(corrupt(
                "a stored member whose compressed and uncompressed sizes differ",
            ));
        }
        8 => Cow::Owned(inflate(data, e.uncompressed)?),
        m => {
            let what = match m {
                12 => " (bzip2)",
                14 => " (LZMA)",
                93 => " (Zstandard)",
                95 => " (xz)",
                _ => "",
            };
            return Err(err(
                DataErrorKind::Unsupported,
                format!(
                    "compression method {m}{what} is not supported; only stored (0) and deflate (8) \
                     are, as np.savez and np.savez_compressed write"
                ),
            ));
        }
    };
    let got = crc32(&out);
    if got != e.crc {
        return Err(err(
            DataErrorKind::Checksum,
            format!(
                "CRC-32 mismatch (stored {:08x}, computed {got:08x}): the data is corrupt",
                e.crc
            ),
        ));
    }
    Ok(out)
}

/// Inflates a raw deflate stream that must produce exactly `size` bytes.
fn inflate(data: &[u8], size: u64) -> Result<Vec<u8>, DataError> {
    let bound = (data.len() as u64)
        .saturating_mul(MAX_DEFLATE_RATIO)
        .saturating_add(64);
    if size > bound {
        return Err(corrupt(format!(
            "claims {size} bytes from {} compressed bytes, more than deflate can produce",
            data.len()
        )));
    }
    use miniz_oxide::inflate::{TINFLStatus, decompress_to_vec_with_limit};
    let out = decompress_to_vec_with_limit(data, to_usize(size)).map_err(|e| match e.status {
        TINFLStatus::HasMoreOutput => corrupt(format!(
            "inflates to more than the {size} bytes the central directory says"
        )),
        _ => corrupt(format!("bad deflate stream: {e}")),
    })?;
    if out.len() as u64 != size {
        return Err(corrupt(format!(
            "inflates to {} bytes, but the central directory says {size}",
            out.len()
        )));
    }
    Ok(out)
}

/// A zip archive of stored (uncompressed) members, with CRC-32s and a central directory.
pub(crate) fn write_stored(members: &[(&str, &[u8])]) -> Result<Vec<u8>, DataError> {
    const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;
    let too_big = || {
        err(
            DataErrorKind::InvalidInput,
            "the archive would exceed 4 GiB or 65535 members; zip64 writing is not supported",
        )
    };
    let count = u16::try_from(members.len()).map_err(|_| too_big())?;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in members {
        let offset = u32::try_from(out.len()).map_err(|_| too_big())?;
        let size = u32::try_from(data.len()).map_err(|_| too_big())?;
        let name_len = u16::try_from(name.len()).map_err(|_| too_big())?;
        let flags: u16 = if name.is_ascii() { 0 } else { 1 << 11 }; // bit 11: UTF-8 name
        let crc = crc32(data);
        // Shared fields: version needed 2.0, flags, method 0, time 0, date, crc, sizes, name len.
        let mut common = Vec::with_capacity(26);
        for v in [20u16, flags, 0, 0, DOS_DATE_1980_01_01] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        common.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&common);
        out.extend_from_slice(&0u16.to_le_bytes()); // extra length
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by: MS-DOS, 2.0
        central.extend_from_slice(&common);
        // extra len, comment len, disk, internal attrs (u16 each); external attrs (u32).
        central.extend_from_slice(&[0u8; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_off = u32::try_from(out.len()).map_err(|_| too_big())?;
    let cd_size = u32::try_from(central.len()).map_err(|_| too_big())?;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    for v in [0u16, 0, count, count] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    u32::try_from(out.len()).map_err(|_| too_big())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deflated_entry(raw: &[u8], claimed: u64) -> (Vec<u8>, Entry) {
        let body = miniz_oxide::deflate::compress_to_vec(raw, 6);
        let mut file = b"PK\x03\x04".to_vec();
        file.resize(30, 0);
        file.extend_from_slice(&body);
        let e = Entry {
            name: "m".into(),
            flags: 0,
            method: 8,
            crc: crc32(raw),
            compressed: body.len() as u64,
            uncompressed: claimed,
            local_offset: 0,
        };
        (file, e)
    }

    #[test]
    fn inflate_checks_the_declared_size() {
        let (file, e) = deflated_entry(b"", 0);
        assert_eq!(&*extract(&file, &e).unwrap(), b"");
        let (file, e) = deflated_entry(&[7; 100], 100);
        assert_eq!(&*extract(&file, &e).unwrap(), &[7; 100]);
        let (file, e) = deflated_entry(&[7; 100], 99);
        let err = extract(&file, &e).unwrap_err();
        assert!(err.message.contains("more than the 99 bytes"), "{err}");
        let (file, e) = deflated_entry(&[7; 100], 101);
        let err = extract(&file, &e).unwrap_err();
        assert!(err.message.contains("inflates to 100 bytes"), "{err}");
    }

    #[test]
    fn writer_output_lists_back() {
        let zip = write_stored(&[("a.npy", b"xyz"), ("b", b"")]).unwrap();
        let es = entries(&zip).unwrap();
        assert_eq!(
            es.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["a.npy", "b"]
        );
        assert_eq!(&*extract(&zip, &es[0]).unwrap(), b"xyz");
        assert_eq!(&*extract(&zip, &es[1]).unwrap(), b"");
    }
}
