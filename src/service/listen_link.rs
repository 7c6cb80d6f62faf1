//! The listen link in a voicemail text: `/voicemails/{RecordingSid}?expires=..&sig=..`,
//! signed so that only someone who got the text can play the message, and only for
//! `voicemail.link_ttl_hours`. Twilio's own recording URL needs the account's credentials,
//! which nobody on the notify list has.
//!
//! The signature is HMAC-SHA1 under the auth token (the secret shiftline already holds),
//! over a label that keeps it from ever matching a webhook signature.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

fn signature(secret: &str, recording_sid: &str, expires: i64) -> String {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("shiftline voicemail link\n{recording_sid}\n{expires}").as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The link to a recording, valid until `expires`.
pub fn link(public_url: &str, secret: &str, recording_sid: &str, expires: DateTime<Utc>) -> String {
    let at = expires.timestamp();
    format!(
        "{public_url}/voicemails/{recording_sid}?expires={at}&sig={}",
        signature(secret, recording_sid, at)
    )
}

/// Why a link is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link's signature is wrong")]
    Forged,
    #[error("the link expired; ask for the voicemail to be sent again")]
    Expired,
}

/// Checks a link's `expires` and `sig` for `recording_sid` at `now`.
pub fn check(
    secret: &str,
    recording_sid: &str,
    expires: i64,
    sig: &str,
    now: DateTime<Utc>,
) -> Result<(), LinkError> {
    let expected = signature(secret, recording_sid, expires);
    if !crate::twilio::signature::constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
        return Err(LinkError::Forged);
    }
    if now.timestamp() >= expires {
        return Err(LinkError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn parts(link: &str) -> (String, i64, String) {
        let url = url::Url::parse(link).unwrap();
        let sid = url.path().rsplit('/').next().unwrap().to_string();
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        (sid, query["expires"].parse().unwrap(), query["sig"].clone())
    }

    #[test]
    fn a_link_works_until_it_expires_and_only_for_its_recording() {
        let now = Utc::now();
        let link = link(
            "https://x.example",
            "token",
            "RE1",
            now + TimeDelta::hours(1),
        );
        let (sid, expires, sig) = parts(&link);
        assert_eq!(sid, "RE1");
        assert_eq!(check("token", "RE1", expires, &sig, now), Ok(()));
        assert_eq!(
            check("token", "RE1", expires, &sig, now + TimeDelta::hours(2)),
            Err(LinkError::Expired)
        );
        assert_eq!(
            check("token", "RE2", expires, &sig, now),
            Err(LinkError::Forged)
        );
        assert_eq!(
            check("token", "RE1", expires + 3600, &sig, now),
            Err(LinkError::Forged),
            "moving the expiry breaks the signature"
        );
        assert_eq!(
            check("other", "RE1", expires, &sig, now),
            Err(LinkError::Forged)
        );
    }
}
