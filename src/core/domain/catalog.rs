//! The business's skills, in menu order, with their names in every language.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

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
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    skills: Vec<Skill>,
    /// The words of the skills' names as understanding matches them (see `words`).
    words: OnceLock<HashSet<String>>,
}

/// Two catalogs are the same when their skills are: the words are worked out from them.
impl PartialEq for Catalog {
    fn eq(&self, other: &Self) -> bool {
        self.skills == other.skills
    }
}

impl Catalog {
    pub fn new(skills: Vec<Skill>) -> Self {
        Self {
            skills,
            words: OnceLock::new(),
        }
    }

    pub fn skills(&self) -> &[Skill] {
        &self.skills
    }

    /// The words of the skills' names, built by `build` on first use and kept: every text
    /// is matched against them, and building them again for each one took about 7% of the
    /// store writer's time. The skills cannot change after `new`, so the words cannot go
    /// stale.
    pub fn words(&self, build: impl FnOnce(&[Skill]) -> HashSet<String>) -> &HashSet<String> {
        self.words.get_or_init(|| build(&self.skills))
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_built_once_and_leave_equality_to_the_skills() {
        let billing = Skill {
            key: SkillKey::parse("billing").unwrap(),
            names: BTreeMap::new(),
        };
        let catalog = Catalog::new(vec![billing]);
        let untouched = catalog.clone();
        let mut built = 0;
        for _ in 0..3 {
            catalog.words(|skills| {
                built += 1;
                skills.iter().map(|s| s.key.as_str().to_string()).collect()
            });
        }
        assert_eq!(built, 1);
        assert!(catalog.words(|_| HashSet::new()).contains("billing"));
        assert_eq!(catalog, untouched);
        assert_ne!(catalog, Catalog::default());
    }
}
