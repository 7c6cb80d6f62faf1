//! Reading an answer to the numbered skill menu: "1 3", "1,3", "13", "billing spanish",
//! "Facturación y soporte", "all", "the first one", "uno y tres", "la última". Skill names
//! match in any language, and a word of three letters or more matches the one skill whose
//! name starts with it ("bill"). The words (fillers, numbers, "all") are the `[menu]` tables
//! of `locales/*.words.toml`.

use super::understand::lexicon::MenuWords;
use super::understand::{menu_words, normalize};
use crate::core::domain::SkillKey;
use crate::core::domain::catalog::Catalog;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuError {
    /// A number with no skill behind it ("9" on a three-skill menu).
    NoSuchNumber(String),
    /// Some of the answer matched skills, this word did not ("billing banana").
    Unmatched(String),
    /// Nothing in the text looks like a menu answer; it may be a command instead.
    NotAnAnswer,
    /// The whole answer closes the menu ("exit", "salir").
    Leave,
}

/// The skills an answer picks, in menu order and without repeats.
pub fn parse(text: &str, catalog: &Catalog) -> Result<Vec<SkillKey>, MenuError> {
    let norm = normalize(text);
    // Words around the picks are let be in a statement, not in a question ("what's the
    // difference between billing and support?").
    let lenient = !text.contains('?');
    if menu_words().any(|m| m.leave.contains(&norm)) {
        return Err(MenuError::Leave);
    }
    // "everything except support", "todas menos la 2": what comes after is left out.
    let padded = format!(" {norm} ");
    let except = menu_words()
        .flat_map(|m| m.except.iter())
        .filter_map(|w| padded.find(&format!(" {w} ")).map(|at| (at, w.len())))
        .min();
    if let Some((at, len)) = except {
        let (kept, left_out) = (&padded[..at], &padded[at + len + 1..]);
        let (base, implied) = match picks(kept, catalog, lenient) {
            Err(MenuError::NotAnAnswer) => (every(catalog), true),
            other => (other?, false),
        };
        // "nomás la de español, las otras no": nothing after the "no" to leave out.
        let left_out = match picks(left_out, catalog, lenient) {
            Err(MenuError::NotAnAnswer) if !implied => Vec::new(),
            other => other?,
        };
        let chosen: Vec<SkillKey> = base.into_iter().filter(|k| !left_out.contains(k)).collect();
        return if chosen.is_empty() {
            Err(MenuError::NotAnAnswer)
        } else {
            Ok(chosen)
        };
    }
    picks(&norm, catalog, lenient)
}

fn every(catalog: &Catalog) -> Vec<SkillKey> {
    catalog.skills().iter().map(|s| s.key.clone()).collect()
}

/// The skills a normalized answer names, with no exceptions in it.
fn picks(norm: &str, catalog: &Catalog, lenient: bool) -> Result<Vec<SkillKey>, MenuError> {
    let norm = norm.trim();
    let count = catalog.len();
    if menu_words().any(|m| m.all.iter().any(|a| a == norm)) {
        return Ok(every(catalog));
    }
    let mut picked = vec![false; count];

    // Whole names first, longest first, so "customer support" wins over "support".
    let mut names: Vec<(usize, String)> = catalog
        .skills()
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            std::iter::once(normalize(&s.key.as_str().replace('_', " ")))
                .chain(s.names.values().map(|n| normalize(n)))
                .map(move |n| (i, n))
        })
        .filter(|(_, n)| !n.is_empty())
        .collect();
    names.sort_by_key(|(_, n)| std::cmp::Reverse(n.len()));
    let mut rest = format!(" {norm} ");
    for (i, name) in &names {
        let padded = format!(" {name} ");
        if rest.contains(&padded) {
            picked[*i] = true;
            rest = rest.replace(&padded, " ");
        }
    }

    let mut bad_number = None;
    let mut unmatched = None;
    let mut after_ordinal = false;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let number_at = |i: usize| {
        words.get(i).and_then(|w| {
            w.parse::<usize>()
                .ok()
                .or_else(|| menu_words().find_map(|m| m.numbers.get(*w).copied()))
        })
    };
    let listed = |list: fn(&MenuWords) -> &Vec<String>, word: &str| {
        menu_words().any(|m| list(m).iter().any(|w| w == word))
    };
    let mut skip = 0;
    for (i, &word) in words.iter().enumerate() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        let was_ordinal = std::mem::take(&mut after_ordinal);
        if was_ordinal && listed(|m| &m.after_ordinal, word) {
            continue;
        }
        // "the first two", "las primeras dos": skills 1 to N.
        if listed(|m| &m.first_n, word)
            && let Some(n) = number_at(i + 1)
        {
            (0..n.min(count)).for_each(|k| picked[k] = true);
            skip = 1;
            continue;
        }
        // "the other two": the number only counts what the rest of the answer means.
        if listed(|m| &m.others, word) {
            skip = usize::from(number_at(i + 1).is_some());
            continue;
        }
        if menu_words().any(|m| m.filler.iter().any(|w| w == word)) {
            continue;
        }
        let spelled = menu_words().find_map(|m| m.numbers.get(word).copied());
        let last = menu_words().any(|m| m.last.iter().any(|w| w == word));
        if let Some(n) = spelled.or(last.then_some(count)) {
            after_ordinal = true;
            match n.checked_sub(1).filter(|&i| i < count) {
                Some(i) => picked[i] = true,
                None => bad_number = bad_number.or(Some(word.to_string())),
            }
        } else if word.bytes().all(|b| b.is_ascii_digit()) {
            match pick_numbers(word, count) {
                Some(indexes) => indexes.into_iter().for_each(|i| picked[i] = true),
                None => bad_number = bad_number.or(Some(word.to_string())),
            }
        } else if let Some(i) = unique_prefix(word, &names) {
            picked[i] = true;
        } else {
            unmatched = unmatched.or(Some(word.to_string()));
        }
    }

    let any = picked.iter().any(|p| *p);
    // A sentence that picks something ("I would like to select options 2 and 3. Thank you,
    // Walter") may carry words of its own; the confirm step that follows shows the pick.
    if any && bad_number.is_none() && words.len() >= 5 && lenient {
        unmatched = None;
    }
    match (bad_number, unmatched) {
        (Some(n), _) => Err(MenuError::NoSuchNumber(n)),
        (None, Some(w)) if any => Err(MenuError::Unmatched(w)),
        (None, Some(_)) => Err(MenuError::NotAnAnswer),
        (None, None) if !any => Err(MenuError::NotAnAnswer),
        (None, None) => Ok(catalog
            .skills()
            .iter()
            .zip(picked)
            .filter(|(_, p)| *p)
            .map(|(s, _)| s.key.clone())
            .collect()),
    }
}

/// "2" is skill 2; on a menu of nine or fewer, "13" is skills 1 and 3 (workers often drop
/// the space). Returns zero-based indexes, or None when a number has no skill.
fn pick_numbers(word: &str, count: usize) -> Option<Vec<usize>> {
    if let Ok(n) = word.parse::<usize>()
        && (1..=count).contains(&n)
    {
        return Some(vec![n - 1]);
    }
    if count > 9 || word.len() < 2 {
        return None;
    }
    word.bytes()
        .map(|b| usize::from(b - b'0'))
        .map(|n| (1..=count).contains(&n).then(|| n - 1))
        .collect()
}

fn unique_prefix(word: &str, names: &[(usize, String)]) -> Option<usize> {
    if word.chars().count() < 3 {
        return None;
    }
    let mut hits = names
        .iter()
        .filter(|(_, n)| n.split(' ').any(|part| part.starts_with(word)))
        .map(|(i, _)| *i);
    let first = hits.next()?;
    hits.all(|i| i == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::Locale;
    use crate::core::domain::catalog::Skill;

    fn catalog() -> Catalog {
        let skill = |key: &str, en: &str, es: &str| Skill {
            key: SkillKey::parse(key).unwrap(),
            names: [(Locale::En, en.to_string()), (Locale::Es, es.to_string())].into(),
        };
        Catalog::new(vec![
            skill("billing", "Billing", "Facturación"),
            skill("support", "Support", "Soporte"),
            skill("spanish", "Spanish", "Español"),
        ])
    }

    fn keys(answer: &str) -> Result<Vec<String>, MenuError> {
        parse(answer, &catalog()).map(|ks| ks.iter().map(|k| k.to_string()).collect())
    }

    #[test]
    fn numbers_in_any_separator_pick_skills_in_menu_order() {
        for answer in [
            "1 3", "1,3", "3, 1", "1 and 3", "1 y 3", "13", "1;3.", "#1 #3",
        ] {
            assert_eq!(
                keys(answer),
                Ok(vec!["billing".into(), "spanish".into()]),
                "{answer}"
            );
        }
    }

    #[test]
    fn names_match_in_either_language_and_by_prefix() {
        assert_eq!(
            keys("billing spanish"),
            Ok(vec!["billing".into(), "spanish".into()])
        );
        assert_eq!(
            keys("Facturación y soporte"),
            Ok(vec!["billing".into(), "support".into()])
        );
        assert_eq!(
            keys("bill, supp"),
            Ok(vec!["billing".into(), "support".into()])
        );
        assert_eq!(keys("SPANISH!"), Ok(vec!["spanish".into()]));
    }

    #[test]
    fn all_picks_every_skill() {
        assert_eq!(keys("ALL").unwrap().len(), 3);
        assert_eq!(keys("todos").unwrap().len(), 3);
    }

    #[test]
    fn a_number_without_a_skill_is_refused() {
        assert_eq!(keys("9"), Err(MenuError::NoSuchNumber("9".into())));
        assert_eq!(keys("1 4"), Err(MenuError::NoSuchNumber("4".into())));
        assert_eq!(keys("0"), Err(MenuError::NoSuchNumber("0".into())));
    }

    #[test]
    fn words_that_are_not_skills_are_not_answers() {
        assert_eq!(keys("banana"), Err(MenuError::NotAnAnswer));
        assert_eq!(keys("off"), Err(MenuError::NotAnAnswer));
        assert_eq!(keys(""), Err(MenuError::NotAnAnswer));
        assert_eq!(
            keys("billing banana"),
            Err(MenuError::Unmatched("banana".into()))
        );
    }

    #[test]
    fn an_ambiguous_prefix_matches_nothing() {
        // "sp" is too short and "spa"/"sop" name one skill each; "s" would be two.
        assert_eq!(keys("s"), Err(MenuError::NotAnAnswer));
        assert_eq!(keys("spa"), Ok(vec!["spanish".into()]));
    }
}
