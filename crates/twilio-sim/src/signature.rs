//! `X-Twilio-Signature` on the simulator's callbacks: base64(HMAC-SHA1(auth token, URL +
//! the form parameters sorted by name, each name followed by its value)), as Twilio signs.
//!
//! The simulator has its own signer on purpose, and shiftline's is never used here: a
//! simulator that reused the product's signer would accept the product's bugs (sign and
//! check the same wrong way and agree with itself). Its tests pin it to the vectors
//! Twilio's helper libraries publish, independently of shiftline.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The signature Twilio sends with a form POST of `params` to `url` (the exact URL
/// posted to, query included).
pub(crate) fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // By name, then by value for a repeated name: byte order, as Twilio sorts.
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::sign;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The example in Twilio's helper libraries' request validator tests.
    #[test]
    fn signs_like_the_helper_libraries() {
        let p = params(&[
            ("To", "+18005551212"),
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("Caller", "+14158675309"),
            ("From", "+14158675309"),
        ]);
        assert_eq!(
            sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &p),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    /// The example in Twilio's security documentation.
    #[test]
    fn signs_like_the_documentation() {
        let p = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(
            sign("12345", "https://example.com/myapp.php?foo=1&bar=2", &p),
            "L/OH5YylLD5NRKLltdqwSvS0BnU="
        );
    }

    #[test]
    fn the_url_and_the_token_are_part_of_the_signature() {
        let p = params(&[("CallSid", "CA1")]);
        let base = sign("12345", "https://example.com/a", &p);
        assert_ne!(base, sign("12345", "https://example.com/b", &p));
        assert_ne!(base, sign("54321", "https://example.com/a", &p));
    }
}
