//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted params)), as Twilio's
//! helper libraries compute it (REFERENCE 8).
//!
//! The URL is the public one Twilio requested, not the one a proxy forwarded to us. Twilio
//! signs voice callbacks over HTTPS without the port and SMS callbacks with it, so like the
//! official helper we accept the URL both with and without its default port.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// The signature Twilio sends for a form POST to `url` with `params`.
pub fn sign(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Sorted by name, then value, byte-wise; repeated identical pairs count once (as the
    // official helper does).
    sorted.sort();
    sorted.dedup();
    let mut mac = HmacSha1::new_from_slice(token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is Twilio's for this request, trying the URL with and without its
/// scheme's default port. The comparison takes the same time wherever the bytes differ.
pub fn is_valid(token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    url_variants(url).iter().any(|candidate| {
        let expected = sign(token, candidate, params);
        constant_time_eq(expected.as_bytes(), signature.as_bytes())
    })
}

/// The URL as given, without an explicit default port, and with it.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_string()];
    let Ok(parsed) = url::Url::parse(url) else {
        return variants;
    };
    let default = match parsed.scheme() {
        "https" => 443,
        "http" => 80,
        _ => return variants,
    };
    let Some(host) = parsed.host_str() else {
        return variants;
    };
    let authority = |port: Option<u16>| match port {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    // Rebuild by replacing only the authority, so the path and query keep the exact
    // encoding Twilio signed (Url would normalise them).
    let after_scheme = &url[parsed.scheme().len() + 3..];
    let rest_at = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
    let rest = &after_scheme[rest_at..];
    let with_port = format!(
        "{}://{}{rest}",
        parsed.scheme(),
        authority(Some(parsed.port().unwrap_or(default)))
    );
    let without_port = format!("{}://{}{rest}", parsed.scheme(), authority(None));
    for v in [with_port, without_port] {
        if !variants.contains(&v) {
            variants.push(v);
        }
    }
    variants
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn call_params() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    #[test]
    fn matches_the_official_helper_vector() {
        assert_eq!(
            sign("12345", URL, &call_params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    #[test]
    fn matches_the_documentation_vector() {
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
    fn repeated_params_are_sorted_by_value() {
        let p = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        assert_eq!(sign("12345", URL, &p), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn the_url_validates_with_and_without_the_default_port() {
        let p = call_params();
        assert!(is_valid("12345", URL, &p, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(is_valid(
            "12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(
            is_valid("12345", URL, &p, "kvajT1Ptam85bY51eRf/AJRuM3w="),
            "signed with :443"
        );
        assert!(is_valid(
            "12345",
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &p,
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
    }

    #[test]
    fn a_non_default_port_is_part_of_the_signed_url() {
        let p = call_params();
        let url = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert!(is_valid("12345", url, &p, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
        assert!(!is_valid(
            "12345",
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &p,
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
    }

    #[test]
    fn a_changed_param_token_or_url_fails() {
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        let mut p = call_params();
        assert!(!is_valid("54321", URL, &p, good));
        assert!(!is_valid(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &p,
            good
        ));
        p[2].1 = "1235".into();
        assert!(!is_valid("12345", URL, &p, good));
        assert!(!is_valid("12345", URL, &call_params(), ""));
    }
}
