//! Name/value pairs for a form body or a query string, encoded the way Twilio's official
//! helper encodes them (REFERENCE 0): PascalCase names, absent values left out, lists as
//! one repeated key per value, booleans as `true`/`false`.

/// An ordered list of parameters. Order does not matter to Twilio; keeping insertion order
/// just makes captured requests easy to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params(Vec<(&'static str, String)>);

impl Params {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A required parameter.
    pub(crate) fn set(mut self, name: &'static str, value: impl ToString) -> Self {
        self.0.push((name, value.to_string()));
        self
    }

    /// An optional parameter: `None` sends nothing (Twilio then keeps or defaults it).
    pub(crate) fn opt<T: ToString>(self, name: &'static str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    /// A list, as the helper sends it: `Name=a&Name=b`. An empty list sends nothing.
    pub(crate) fn list<S: AsRef<str>>(mut self, name: &'static str, values: &[S]) -> Self {
        for v in values {
            self.0.push((name, v.as_ref().to_string()));
        }
        self
    }

    pub(crate) fn pairs(&self) -> &[(&'static str, String)] {
        &self.0
    }

    /// `application/x-www-form-urlencoded` text (spaces as `+`, like Python's urlencode).
    pub(crate) fn encode(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.0 {
            out.append_pair(name, value);
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_values_are_left_out_and_lists_repeat_the_key() {
        let p = Params::new()
            .set("To", "+15557654321")
            .opt::<&str>("Url", None)
            .opt("Record", Some(false))
            .list("StatusCallbackEvent", &["initiated", "answered"])
            .list::<&str>("Empty", &[]);
        assert_eq!(
            p.encode(),
            "To=%2B15557654321&Record=false\
             &StatusCallbackEvent=initiated&StatusCallbackEvent=answered"
        );
    }

    #[test]
    fn json_values_and_unicode_are_percent_encoded() {
        let p = Params::new()
            .set("Attributes", r#"{"a": 1}"#)
            .set("Body", "é ✓");
        assert_eq!(
            p.encode(),
            "Attributes=%7B%22a%22%3A+1%7D&Body=%C3%A9+%E2%9C%93"
        );
    }
}
