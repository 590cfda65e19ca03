//! CRC-32 (IEEE 802.3, as zip uses it): reflected polynomial `0xEDB88320`, initial value and
//! final XOR `0xFFFFFFFF`, one table lookup per byte.
//!
//! ```text
//! crc ← !0;  for each byte b:  crc ← T[(crc ⊕ b) & 0xFF] ⊕ (crc >> 8);  result = !crc
//! T[n] = n shifted right 8 times, XOR-ing 0xEDB88320 whenever a 1 bit falls off
//! ```

/// The 256-entry lookup table, built at compile time.
const TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[n] = c;
        n += 1;
    }
    t
};

/// The CRC-32 of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| {
        TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn check_values() {
        // The standard check value, and two others from zlib's crc32().
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }
}
