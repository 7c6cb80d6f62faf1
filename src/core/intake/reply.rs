//! What the core says back: a message key from `locales/` and its arguments. The shell
//! renders it in the worker's language, as SMS text or (later) as spoken TwiML.

use crate::core::domain::SkillKey;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Number(i64),
    /// Skill names in the reader's language, joined: "Billing, Spanish".
    Skills(Vec<SkillKey>),
    /// The numbered menu of every skill: "1 Billing, 2 Support, 3 Spanish".
    Menu,
    /// A command's name in the reader's language, by its message id ("command-off": OFF,
    /// SALIR).
    Command(&'static str),
    /// Several commands' names, joined with the language's "or".
    Commands(Vec<&'static str>),
}

impl Reply {
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, name: &'static str, value: Arg) -> Self {
        self.args.push((name, value));
        self
    }

    pub fn text(self, name: &'static str, value: impl Into<String>) -> Self {
        self.arg(name, Arg::Text(value.into()))
    }
}
