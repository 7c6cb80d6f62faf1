//! Localised wording, from the Fluent files in `locales/` (compiled into the binary).
//!
//! Fluent wraps every placeable in invisible bidi isolation marks unless told not to; those
//! characters are outside GSM-7 and would turn every SMS into short UCS-2 segments, so
//! isolation is switched off for every bundle (DESIGN 6).

use std::collections::HashMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::core::domain::Locale;
use crate::core::domain::catalog::Catalog;
use crate::core::intake::reply::{Arg, Reply};

/// The Fluent source of each shipped language.
const SOURCES: [(Locale, &str); 2] = [
    (Locale::En, include_str!("../../locales/en.ftl")),
    (Locale::Es, include_str!("../../locales/es.ftl")),
];

pub struct Messages {
    bundles: HashMap<Locale, FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages").finish_non_exhaustive()
    }
}

impl Messages {
    /// Parses every shipped locale. A syntax error in a `.ftl` file is a build mistake, caught
    /// by the tests, so it is reported here with the language and Fluent's own message.
    pub fn load() -> Result<Self, String> {
        let mut bundles = HashMap::new();
        for (locale, source) in SOURCES {
            let resource = FluentResource::try_new(source.to_string())
                .map_err(|(_, errors)| format!("locales/{locale}.ftl: {errors:?}"))?;
            let lang = locale
                .code()
                .parse()
                .map_err(|e| format!("{locale}: {e}"))?;
            let mut bundle = FluentBundle::new_concurrent(vec![lang]);
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errors| format!("locales/{locale}.ftl: {errors:?}"))?;
            bundles.insert(locale, bundle);
        }
        Ok(Self { bundles })
    }

    /// Messages only ever spoken (IVR, customer line, whisper), never sent as an SMS, so
    /// SMS length rules do not apply to them. They are named by these prefixes.
    pub fn spoken_only(id: &str) -> bool {
        const SPOKEN: [&str; 6] = [
            "ivr-",
            "customer-",
            "whisper-",
            "connecting",
            "voicemail-prompt",
            "voicemail-thanks",
        ];
        SPOKEN.iter().any(|prefix| id.starts_with(prefix))
    }

    /// Every message id of a locale, for tests that render them all.
    pub fn ids(&self, locale: Locale) -> Vec<String> {
        let source = SOURCES.iter().find(|(l, _)| *l == locale).map(|(_, s)| *s);
        source
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once(" ="))
            .map(|(id, _)| id.trim().to_string())
            .filter(|id| id.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .collect()
    }

    /// The SMS text of a reply. A key missing from a locale falls back to English and then
    /// to the key itself, so a worker always gets an answer.
    pub fn render(&self, locale: Locale, reply: &Reply, catalog: &Catalog) -> String {
        let args = self.args(locale, reply, catalog);
        self.format(locale, reply.key, &args)
            .or_else(|| self.format(Locale::En, reply.key, &args))
            .unwrap_or_else(|| reply.key.to_string())
    }

    fn args(&self, locale: Locale, reply: &Reply, catalog: &Catalog) -> FluentArgs<'static> {
        let mut args = FluentArgs::new();
        for (name, value) in &reply.args {
            let value = match value {
                Arg::Text(s) => FluentValue::from(s.clone()),
                Arg::Number(n) => FluentValue::from(*n),
                Arg::Skills(keys) => FluentValue::from(self.skill_list(locale, keys, catalog)),
                Arg::Menu => FluentValue::from(menu(locale, catalog)),
                Arg::Command(key) => FluentValue::from(self.word(locale, key)),
                Arg::Commands(keys) => {
                    let names: Vec<String> = keys.iter().map(|k| self.word(locale, k)).collect();
                    let or = format!(" {} ", self.word(locale, "word-or"));
                    FluentValue::from(names.join(&or))
                }
            };
            args.set(*name, value);
        }
        args
    }

    /// The spoken wording of a reply: the message's `.voice` attribute where it has one
    /// (SMS wording says "text ON", a caller needs "press 1"), else the SMS text.
    pub fn render_voice(&self, locale: Locale, reply: &Reply, catalog: &Catalog) -> String {
        let args = self.args(locale, reply, catalog);
        self.format_voice(locale, reply.key, &args)
            .or_else(|| self.format_voice(Locale::En, reply.key, &args))
            .unwrap_or_else(|| self.render(locale, reply, catalog))
    }

    fn format_voice(&self, locale: Locale, key: &str, args: &FluentArgs) -> Option<String> {
        let bundle = self.bundles.get(&locale)?;
        let pattern = bundle.get_message(key)?.get_attribute("voice")?.value();
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        errors.is_empty().then(|| text.into_owned())
    }

    /// Several replies of one turn, sent as one SMS.
    pub fn render_all(&self, locale: Locale, replies: &[Reply], catalog: &Catalog) -> String {
        let parts: Vec<String> = replies
            .iter()
            .map(|r| self.render(locale, r, catalog))
            .collect();
        parts.join("\n")
    }

    fn format(&self, locale: Locale, key: &str, args: &FluentArgs) -> Option<String> {
        let bundle = self.bundles.get(&locale)?;
        let pattern = bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        errors.is_empty().then(|| text.into_owned())
    }

    /// A message without arguments, used as a word inside another (a command's name).
    fn word(&self, locale: Locale, key: &str) -> String {
        self.format(locale, key, &FluentArgs::new())
            .or_else(|| self.format(Locale::En, key, &FluentArgs::new()))
            .unwrap_or_else(|| key.to_string())
    }

    fn skill_list(
        &self,
        locale: Locale,
        keys: &[crate::core::domain::SkillKey],
        catalog: &Catalog,
    ) -> String {
        if keys.is_empty() {
            return self
                .format(locale, "no-skills", &FluentArgs::new())
                .unwrap_or_default();
        }
        let names: Vec<&str> = keys
            .iter()
            .map(|k| catalog.get(k).map(|s| s.name(locale)).unwrap_or(k.as_str()))
            .collect();
        names.join(", ")
    }
}

/// "1 Billing, 2 Support, 3 Spanish".
fn menu(locale: Locale, catalog: &Catalog) -> String {
    let items: Vec<String> = catalog
        .skills()
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{} {}", i + 1, s.name(locale)))
        .collect();
    items.join(", ")
}
