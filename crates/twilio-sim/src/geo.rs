//! Where a caller is, as Twilio tells it on every call webhook (`FromCity`, `FromState`,
//! `FromCountry`, and the same for `To`): Twilio looks the number up and sends the city
//! in capitals when it knows it, and nothing when it does not.
//!
//! The simulator knows a handful of real North American area codes, enough for scripts
//! to show a caller with a city; the `555` numbers that tests use everywhere else are
//! fictional and, as on Twilio, come with no city.

/// `(area code, city, state)`: one well-known city per area code.
const AREA_CODES: [(&str, &str, &str); 10] = [
    ("212", "NEW YORK", "NY"),
    ("213", "LOS ANGELES", "CA"),
    ("305", "MIAMI", "FL"),
    ("312", "CHICAGO", "IL"),
    ("415", "SAN FRANCISCO", "CA"),
    ("512", "AUSTIN", "TX"),
    ("617", "BOSTON", "MA"),
    ("713", "HOUSTON", "TX"),
    ("773", "CHICAGO", "IL"),
    ("206", "SEATTLE", "WA"),
];

/// The city and state of a `+1` number the simulator knows, as Twilio writes them.
pub(crate) fn place(number: &str) -> Option<(&'static str, &'static str)> {
    let national = number.strip_prefix("+1").filter(|n| n.len() == 10)?;
    let area = national.get(..3)?;
    AREA_CODES
        .iter()
        .find(|(code, _, _)| *code == area)
        .map(|(_, city, state)| (*city, *state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_area_code_has_a_city_and_a_fictional_number_has_none() {
        assert_eq!(place("+13125550123"), Some(("CHICAGO", "IL")));
        assert_eq!(place("+15559990000"), None);
        assert_eq!(place("+441312345678"), None);
        assert_eq!(place("anonymous"), None);
    }
}
