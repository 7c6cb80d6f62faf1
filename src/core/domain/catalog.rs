//! The business's skills, in menu order, with their names in every language.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::domain::{Locale, SkillKey};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skill {
    pub key: SkillKey,
    /// Display names by language; a language without one falls back to English, then the key.
    pub names: BTreeMap<Locale, String>,
}

impl Skill {
    pub fn name(&self, locale: Locale) -> &str {
        self.names
            .get(&locale)
            .or_else(|| self.names.get(&Locale::En))
            .map(String::as_str)
            .unwrap_or(self.key.as_str())
    }
}

/// Skills in menu order: the first is digit 1.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub skills: Vec<Skill>,
}

impl Catalog {
    pub fn get(&self, key: &SkillKey) -> Option<&Skill> {
        self.skills.iter().find(|s| &s.key == key)
    }

    /// The skill's name in `locale`; empty for none or a key the catalog no longer has.
    pub fn name_of(&self, key: Option<&SkillKey>, locale: Locale) -> String {
        key.and_then(|k| self.get(k))
            .map(|s| s.name(locale).to_string())
            .unwrap_or_default()
    }

    /// `keys` in menu order, without repeats and without keys the catalog no longer has.
    pub fn in_menu_order(&self, keys: &[SkillKey]) -> Vec<SkillKey> {
        self.skills
            .iter()
            .filter(|s| keys.contains(&s.key))
            .map(|s| s.key.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.skills.len()
    }

    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }
}
