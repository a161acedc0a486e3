//! Object keys in S3 event notifications are URL-encoded form style: a space arrives as `+`,
//! everything else unsafe as `%XX` bytes of UTF-8 (`in/cat photo.jpg` -> `in/cat+photo.jpg`;
//! the emulator also encodes `/` as `%2F`). Decoding must turn `+` into a space first and only
//! then percent-decode, or a literal `+` in a key (sent as `%2B`) would become a space.
//! [`encode`] writes keys that way, for events we make ourselves.

/// Why an event's key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key {0:?} has a malformed percent escape")]
    BadEscape(String),
    #[error("key {0:?} does not decode to UTF-8")]
    NotUtf8(String),
}

/// Decodes an object key from an S3 event record.
pub fn decode(encoded: &str) -> Result<String, KeyError> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut input = encoded.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = input.next().and_then(hex_value);
                let low = input.next().and_then(hex_value);
                match (high, low) {
                    (Some(high), Some(low)) => bytes.push(high << 4 | low),
                    _ => return Err(KeyError::BadEscape(encoded.to_owned())),
                }
            }
            _ => bytes.push(byte),
        }
    }
    String::from_utf8(bytes).map_err(|_| KeyError::NotUtf8(encoded.to_owned()))
}

/// Encodes an object key the way S3 writes it into an event (the inverse of [`decode`]): a
/// space as `+`, every byte but letters, digits, `-_.~` and `/` as `%XX`. For the events the
/// backfill enqueues.
pub fn encode(key: &str) -> String {
    let mut encoded = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b' ' => encoded.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(char::from(byte));
            }
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                encoded.push('%');
                encoded.push(char::from(HEX[usize::from(byte >> 4)]));
                encoded.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
    encoded
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_with_plus_is_decoded_to_space() {
        assert_eq!(decode("in/cat+photo.jpg").unwrap(), "in/cat photo.jpg");
    }

    #[test]
    fn encoded_slash_and_plus_are_decoded_after_spaces() {
        assert_eq!(decode("in%2Fcat+photo.jpg").unwrap(), "in/cat photo.jpg");
        assert_eq!(decode("a%2Bb+c.png").unwrap(), "a+b c.png");
    }

    #[test]
    fn multibyte_utf8_is_decoded() {
        assert_eq!(
            decode("fotos/%C3%A9t%C3%A9+2026.jpg").unwrap(),
            "fotos/été 2026.jpg"
        );
        assert_eq!(decode("%e2%9c%93.webp").unwrap(), "✓.webp");
    }

    #[test]
    fn encoded_keys_decode_to_themselves() {
        assert_eq!(encode("in/cat photo (1).jpg"), "in/cat+photo+%281%29.jpg");
        for key in [
            "in/cat photo.jpg",
            "a+b c.png",
            "fotos/été 2026.jpg",
            "100%.webp",
            "✓",
        ] {
            assert_eq!(decode(&encode(key)).unwrap(), key);
        }
    }

    #[test]
    fn malformed_keys_are_errors_not_guesses() {
        assert_eq!(
            decode("bad%2").unwrap_err(),
            KeyError::BadEscape("bad%2".into())
        );
        assert_eq!(
            decode("bad%zz.jpg").unwrap_err(),
            KeyError::BadEscape("bad%zz.jpg".into())
        );
        assert_eq!(
            decode("%C3%28.jpg").unwrap_err(),
            KeyError::NotUtf8("%C3%28.jpg".into())
        );
    }
}
