//! `shiftline twilio sign`: signs a webhook request the way Twilio does, so one can be sent
//! by hand (curl) to a service that checks every signature.

use super::Failure;
use crate::twilio::signature;

/// A request to sign: the URL Twilio would call and its form parameters, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub params: Vec<(String, String)>,
}

impl Request {
    /// Checks the URL and reads each parameter as `NAME=VALUE` (the value may hold `=`).
    pub fn parse(url: &str, params: &[String]) -> Result<Self, Failure> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Failure::Usage(format!(
                "{url} is not a URL: give the webhook's public URL, like https://shiftline.example.com/twilio/sms"
            )));
        }
        let params = params
            .iter()
            .map(|p| match p.split_once('=') {
                Some((name, value)) if !name.is_empty() => {
                    Ok((name.to_string(), value.to_string()))
                }
                _ => Err(Failure::Usage(format!(
                    "{p} is not a form parameter: write NAME=VALUE, like Body=on"
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            url: url.to_string(),
            params,
        })
    }

    /// The `X-Twilio-Signature` for this request.
    pub fn signature(&self, token: &str) -> String {
        signature::sign(token, &self.url, &self.params)
    }

    /// A curl command sending this request signed. `--data-urlencode` posts each value as
    /// written ("+1555..." stays a plus), which is what was signed.
    pub fn curl(&self, token: &str) -> String {
        let mut out = format!(
            "curl -sS {} \\\n  -H {}",
            quote(&self.url),
            quote(&format!("X-Twilio-Signature: {}", self.signature(token)))
        );
        for (name, value) in &self.params {
            out += &format!(
                " \\\n  --data-urlencode {}",
                quote(&format!("{name}={value}"))
            );
        }
        out.push('\n');
        out
    }
}

/// `s` in single quotes for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_value_may_hold_equals_signs_and_a_name_may_not_be_empty() {
        let request = Request::parse("https://x.example/twilio/sms", &args(&["Body=a=b"])).unwrap();
        assert_eq!(request.params, [("Body".to_string(), "a=b".to_string())]);
        assert!(Request::parse("https://x.example", &args(&["=on"])).is_err());
        assert!(Request::parse("x.example/twilio/sms", &[]).is_err());
    }

    #[test]
    fn the_signature_is_the_one_the_service_checks() {
        let request = Request::parse(
            "https://x.example/twilio/sms",
            &args(&["From=+15550001111", "Body=on"]),
        )
        .unwrap();
        let sig = request.signature("secret");
        assert!(signature::is_valid(
            "secret",
            &request.url,
            &request.params,
            &sig
        ));
        assert!(request.curl("secret").contains(&sig));
    }
}
