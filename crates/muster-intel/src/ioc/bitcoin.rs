//! Bitcoin address validation: Base58Check for legacy (`1…`) and script (`3…`) addresses,
//! Bech32/Bech32m (BIP 173/350) for segwit (`bc1…`) addresses.
//!
//! Checking the checksum is what makes these safe to extract from free text: a random
//! 34-character word that starts with `1` passes with probability 2⁻³².

use sha2::{Digest, Sha256};

const BASE58_ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Whether `s` is a mainnet P2PKH (`1…`) or P2SH (`3…`) address with a valid checksum.
pub(crate) fn is_base58_address(s: &[u8]) -> bool {
    if !(26..=35).contains(&s.len()) {
        return false;
    }
    let Some(decoded) = base58_decode_25(s) else {
        return false;
    };
    let version_ok = matches!((s[0], decoded[0]), (b'1', 0x00) | (b'3', 0x05));
    let checksum = Sha256::digest(Sha256::digest(&decoded[..21]));
    version_ok && checksum[..4] == decoded[21..]
}

/// Decodes a Base58 string that must encode exactly 25 bytes.
fn base58_decode_25(s: &[u8]) -> Option<[u8; 25]> {
    let mut out = [0u8; 25];
    for &c in s {
        let mut carry = BASE58_ALPHABET.iter().position(|&a| a == c)? as u32;
        for byte in out.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return None;
        }
    }
    let leading_ones = s.iter().take_while(|&&c| c == b'1').count();
    let leading_zeros = out.iter().take_while(|&&b| b == 0).count();
    (leading_ones == leading_zeros).then_some(out)
}

/// Whether `s` is a mainnet segwit address (`bc1…`, one case throughout) with a valid
/// Bech32 (witness v0) or Bech32m (v1+) checksum.
pub(crate) fn is_bech32_address(s: &[u8]) -> bool {
    if !(14..=74).contains(&s.len()) {
        return false;
    }
    let lower = s.iter().any(u8::is_ascii_lowercase);
    let upper = s.iter().any(u8::is_ascii_uppercase);
    if lower && upper || !s[..3].eq_ignore_ascii_case(b"bc1") {
        return false;
    }
    let mut values = [0u8; 74];
    let data = &s[3..];
    for (slot, &c) in values.iter_mut().zip(data) {
        let c = c.to_ascii_lowercase();
        let Some(v) = BECH32_CHARSET.iter().position(|&x| x == c) else {
            return false;
        };
        *slot = v as u8;
    }
    let values = &values[..data.len()];
    let mut chk: u32 = 1;
    for &hrp_char in b"bc" {
        chk = polymod_step(chk, hrp_char >> 5);
    }
    chk = polymod_step(chk, 0);
    for &hrp_char in b"bc" {
        chk = polymod_step(chk, hrp_char & 31);
    }
    for &v in values {
        chk = polymod_step(chk, v);
    }
    let witness_version = values[0];
    match chk {
        1 => witness_version == 0,
        0x2bc8_30a3 => (1..=16).contains(&witness_version),
        _ => false,
    }
}

fn polymod_step(chk: u32, value: u8) -> u32 {
    const GENERATOR: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let top = chk >> 25;
    let mut chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(value);
    for (i, g) in GENERATOR.iter().enumerate() {
        if (top >> i) & 1 == 1 {
            chk ^= g;
        }
    }
    chk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_addresses() {
        assert!(is_base58_address(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
        assert!(is_base58_address(b"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(is_bech32_address(
            b"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"
        ));
        assert!(is_bech32_address(
            b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        ));
        assert!(is_bech32_address(
            b"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
        ));
    }

    #[test]
    fn rejects_corrupted_addresses() {
        assert!(!is_base58_address(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"));
        assert!(!is_base58_address(b"1111111111111111111111111111"));
        assert!(!is_base58_address(b"10000000000000000000000000000"));
        assert!(!is_bech32_address(
            b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"
        ));
        assert!(!is_bech32_address(
            b"bc1QAR0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        ));
        assert!(!is_bech32_address(b"bc1"));
    }
}
