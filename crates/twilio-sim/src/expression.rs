//! TaskRouter's expression language, the part shiftline routes with.
//!
//! Supported: string literals in single or double quotes, numbers, `true`, `false`,
//! `null`, list literals (`["en", "es"]`), attribute paths (`skills`, `worker.skills`,
//! `task.skill`), the comparisons `== != > >= < <=`, `HAS`, `IN`, `NOT IN`, `CONTAINS`,
//! `AND`, `OR` and parentheses. Keywords are case-insensitive.
//!
//! Simplified: string comparisons are exact (case-sensitive); a comparison between
//! values of different types is false rather than an error; a missing attribute reads as
//! `null`. Anything that does not parse evaluates to false and is logged: Twilio would
//! refuse such an expression when it is saved, and a test double must never panic on one.

use serde_json::Value;

/// What the paths in an expression can refer to.
pub struct Scope<'a> {
    /// Named objects a path may start with (`worker`, `task`, `workers`).
    pub roots: &'a [(&'a str, &'a Value)],
    /// What a path without one of those prefixes reads from: the object being filtered
    /// (the worker for `TargetWorkers`, the task for a workflow filter).
    pub bare: &'a Value,
}

/// Whether `expression` holds in `scope`. Unsupported syntax is false, never a panic.
pub fn matches(expression: &str, scope: &Scope) -> bool {
    match parse(expression) {
        Ok(expr) => expr.eval(scope) == Value::Bool(true),
        Err(error) => {
            tracing::warn!(
                expression,
                %error,
                "unsupported TaskRouter expression, treated as false"
            );
            false
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Op(Op),
    And,
    Or,
    Not,
    Literal(Value),
    Path(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Has,
    In,
    NotIn,
    Contains,
}

#[derive(Debug)]
enum Expr {
    Literal(Value),
    Path(Vec<String>),
    List(Vec<Expr>),
    Compare(Box<Expr>, Op, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | '[' | ']' | ',' => {
                tokens.push(match c {
                    '(' => Token::LParen,
                    ')' => Token::RParen,
                    '[' => Token::LBracket,
                    ']' => Token::RBracket,
                    _ => Token::Comma,
                });
                i += 1;
            }
            '=' | '!' | '>' | '<' => {
                let (op, len) = match (c, next) {
                    ('=', Some('=')) => (Op::Eq, 2),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('>', _) => (Op::Gt, 1),
                    ('<', _) => (Op::Lt, 1),
                    _ => return Err(format!("unexpected {c:?} at {i}")),
                };
                tokens.push(Token::Op(op));
                i += len;
            }
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&q| q == c)
                    .ok_or_else(|| format!("unterminated string at {i}"))?;
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                tokens.push(Token::Literal(Value::String(text)));
                i += end + 2;
            }
            c if c.is_ascii_digit() => {
                let len = chars[i..]
                    .iter()
                    .take_while(|d| d.is_ascii_digit() || **d == '.')
                    .count();
                let text: String = chars[i..i + len].iter().collect();
                let number: f64 = text
                    .parse()
                    .map_err(|_| format!("bad number {text:?} at {i}"))?;
                let number = serde_json::Number::from_f64(number)
                    .ok_or_else(|| format!("bad number {text:?} at {i}"))?;
                tokens.push(Token::Literal(Value::Number(number)));
                i += len;
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|d| d.is_alphanumeric() || **d == '_' || **d == '.')
                    .count();
                let word: String = chars[i..i + len].iter().collect();
                tokens.push(word_token(&word)?);
                i += len;
            }
            _ => return Err(format!("unexpected {c:?} at {i}")),
        }
    }
    Ok(tokens)
}

fn word_token(word: &str) -> Result<Token, String> {
    Ok(match word.to_ascii_uppercase().as_str() {
        "AND" => Token::And,
        "OR" => Token::Or,
        "NOT" => Token::Not,
        "HAS" => Token::Op(Op::Has),
        "IN" => Token::Op(Op::In),
        "CONTAINS" => Token::Op(Op::Contains),
        "NULL" => Token::Literal(Value::Null),
        "TRUE" => Token::Literal(Value::Bool(true)),
        "FALSE" => Token::Literal(Value::Bool(false)),
        _ => {
            let parts: Vec<String> = word.split('.').map(str::to_string).collect();
            if parts.iter().any(String::is_empty) {
                return Err(format!("bad attribute path {word:?}"));
            }
            Token::Path(parts)
        }
    })
}

fn parse(input: &str) -> Result<Expr, String> {
    let tokens = tokenize(input)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(t) => Err(format!("unexpected {t:?} after a complete expression")),
    }
}

/// Recursive descent; `OR` binds looser than `AND`, which binds looser than a comparison.
struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.comparison()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.comparison()?));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Token::Op(op)) => *op,
            Some(Token::Not) => {
                self.at += 1;
                match self.peek() {
                    Some(Token::Op(Op::In)) => Op::NotIn,
                    other => return Err(format!("expected IN after NOT, found {other:?}")),
                }
            }
            // A lone operand (`(a == 1)`, `true`) is its own value.
            _ => return Ok(left),
        };
        self.at += 1;
        let right = self.operand()?;
        Ok(Expr::Compare(Box::new(left), op, Box::new(right)))
    }

    fn operand(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::LParen) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::RParen) => Ok(inner),
                    other => Err(format!("expected ')', found {other:?}")),
                }
            }
            Some(Token::LBracket) => {
                let mut items = Vec::new();
                if self.peek() == Some(&Token::RBracket) {
                    self.at += 1;
                    return Ok(Expr::List(items));
                }
                loop {
                    items.push(self.operand()?);
                    match self.next() {
                        Some(Token::Comma) => continue,
                        Some(Token::RBracket) => return Ok(Expr::List(items)),
                        other => return Err(format!("expected ',' or ']', found {other:?}")),
                    }
                }
            }
            Some(Token::Literal(v)) => Ok(Expr::Literal(v)),
            Some(Token::Path(p)) => Ok(Expr::Path(p)),
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
}

impl Expr {
    fn eval(&self, scope: &Scope) -> Value {
        match self {
            Expr::Literal(v) => v.clone(),
            Expr::Path(path) => resolve(path, scope),
            Expr::List(items) => Value::Array(items.iter().map(|e| e.eval(scope)).collect()),
            Expr::Compare(l, op, r) => Value::Bool(compare(&l.eval(scope), *op, &r.eval(scope))),
            Expr::And(l, r) => Value::Bool(
                l.eval(scope) == Value::Bool(true) && r.eval(scope) == Value::Bool(true),
            ),
            Expr::Or(l, r) => Value::Bool(
                l.eval(scope) == Value::Bool(true) || r.eval(scope) == Value::Bool(true),
            ),
        }
    }
}

fn resolve(path: &[String], scope: &Scope) -> Value {
    let (start, rest) = match scope.roots.iter().find(|(name, _)| *name == path[0]) {
        Some((_, root)) => (*root, &path[1..]),
        None => (scope.bare, path),
    };
    rest.iter()
        .try_fold(start, |v, key| v.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn compare(l: &Value, op: Op, r: &Value) -> bool {
    let numbers = l.as_f64().zip(r.as_f64());
    match op {
        Op::Eq => equal(l, r),
        Op::Ne => !equal(l, r),
        Op::Gt => numbers.is_some_and(|(x, y)| x > y),
        Op::Ge => numbers.is_some_and(|(x, y)| x >= y),
        Op::Lt => numbers.is_some_and(|(x, y)| x < y),
        Op::Le => numbers.is_some_and(|(x, y)| x <= y),
        Op::Has => l
            .as_array()
            .is_some_and(|items| items.iter().any(|i| equal(i, r))),
        Op::In => r
            .as_array()
            .is_some_and(|items| items.iter().any(|i| equal(i, l))),
        Op::NotIn => r
            .as_array()
            .is_some_and(|items| !items.iter().any(|i| equal(i, l))),
        Op::Contains => match (l.as_str(), r.as_str()) {
            (Some(haystack), Some(needle)) => haystack.contains(needle),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn worker() -> Value {
        json!({"skills": ["billing", "spanish"], "languages": ["en", "es"], "level": 3,
               "contact_uri": "+15550001111", "team": {"name": "north"}})
    }

    fn task() -> Value {
        json!({"skill": "billing", "language": "es", "vip": true})
    }

    /// Evaluated as a workflow target expression: `worker.` and `task.` prefixes, bare
    /// paths read the worker.
    fn holds(expression: &str) -> bool {
        let (w, t) = (worker(), task());
        matches(
            expression,
            &Scope {
                roots: &[("worker", &w), ("task", &t)],
                bare: &w,
            },
        )
    }

    #[test]
    fn has_finds_a_value_in_an_array_attribute() {
        assert!(holds(r#"skills HAS "billing""#));
        assert!(holds("worker.skills HAS task.skill"));
        assert!(holds(r#"languages HAS "es""#));
        assert!(!holds(r#"skills HAS "support""#));
        assert!(
            !holds(r#"contact_uri HAS "+15550001111""#),
            "HAS needs an array"
        );
    }

    #[test]
    fn in_and_not_in_look_for_the_left_value_in_the_right_array() {
        assert!(holds("task.language IN worker.languages"));
        assert!(holds(r#"task.language IN ["es", "fr"]"#));
        assert!(!holds(r#"task.language NOT IN ["es", "fr"]"#));
        assert!(holds(r#"task.language not in ['fr']"#));
        assert!(!holds("task.language IN task.skill"), "IN needs an array");
    }

    #[test]
    fn equality_compares_strings_numbers_booleans_and_null() {
        assert!(holds("1==1"));
        assert!(!holds("1==2"));
        assert!(holds("1 != 2"));
        assert!(holds("level == 3"));
        assert!(holds("level >= 3.0 AND level < 4"));
        assert!(holds(r#"task.skill == "billing""#));
        assert!(holds("task.vip == true"));
        assert!(holds("task.skill != null"));
        assert!(holds("task.missing == null"));
        assert!(!holds("task.missing != null"));
        assert!(holds("team.name == 'north'"));
        assert!(!holds(r#"level == "3""#), "a number is not a string");
    }

    #[test]
    fn and_or_and_parentheses_combine_comparisons() {
        assert!(holds(r#"skills HAS "billing" AND languages HAS "es""#));
        assert!(!holds(r#"skills HAS "billing" AND languages HAS "fr""#));
        assert!(holds(r#"skills HAS "support" OR languages HAS "es""#));
        assert!(holds(r#"1==2 OR (1==1 AND 2==2)"#));
        assert!(!holds(r#"(1==2 OR 1==1) AND 2==3"#));
        assert!(
            holds(r#"1==2 and 1==1 or 1==1"#),
            "AND binds tighter than OR"
        );
    }

    #[test]
    fn single_and_double_quotes_make_the_same_string() {
        assert!(holds("skills HAS 'billing'"));
        assert!(holds(r#"skills HAS "billing""#));
        assert!(holds(r#"task.skill CONTAINS 'bill'"#));
    }

    #[test]
    fn prefixes_choose_the_object_and_bare_paths_read_the_filtered_one() {
        let (w, t) = (worker(), task());
        let as_filter = Scope {
            roots: &[("task", &t)],
            bare: &t,
        };
        assert!(matches(r#"skill == "billing""#, &as_filter));
        assert!(matches(r#"task.skill == "billing""#, &as_filter));
        assert!(!matches(r#"worker.skills HAS "billing""#, &as_filter));
        let as_target = Scope {
            roots: &[("worker", &w), ("task", &t)],
            bare: &w,
        };
        assert!(matches(r#"worker.skills HAS "billing""#, &as_target));
        assert!(!matches(r#"skill == "billing""#, &as_target));
    }

    #[test]
    fn garbage_input_is_false_and_never_panics() {
        for garbage in [
            "",
            "skills HAS",
            "skills HAS \"billing",
            "((1==1)",
            "1==1)",
            "1 = 1",
            "skills HAS 'a' AND",
            "a..b == 1",
            "worker.skills HAS task-skill",
            "NOT 1==1",
            "[1, 2",
            "1 == 1 1",
            "héllo == ☃",
        ] {
            assert!(!holds(garbage), "{garbage:?} should be false");
        }
    }
}
