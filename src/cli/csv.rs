//! The roster's CSV files: `phone,name,language,languages,time_zone` with a header row.
//!
//! A small reader and writer rather than a crate: the format has five short text columns.
//! The reader takes what spreadsheets write (quoted fields with `""` for a quote, commas and
//! line breaks inside quotes, CRLF, a UTF-8 byte order mark); the writer quotes a field only
//! when it must (a comma, a quote, a line break, or spaces at either end).

/// One row, with the line of the file it starts on (the header is line 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub fields: Vec<String>,
}

/// The file cannot be read as CSV at all, so no row of it is trusted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct CsvError {
    pub line: usize,
    pub problem: String,
}

/// Splits `text` into rows. Blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Row>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    // The current field was quoted: an empty quoted field still makes a row.
    let mut quoted = false;
    let mut in_quotes = false;
    let mut line = 1;
    let mut row_line = 1;
    let mut quote_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\r' if chars.peek() == Some(&'\n') => {}
                c => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !quoted => {
                // Spaces before an opening quote are padding, not content.
                field.clear();
                quoted = true;
                in_quotes = true;
                quote_line = line;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                end_row(&mut rows, &mut fields, &mut field, quoted, row_line);
                quoted = false;
                line += 1;
                row_line = line;
            }
            c => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError {
            line: quote_line,
            problem: "a quoted field is never closed".into(),
        });
    }
    end_row(&mut rows, &mut fields, &mut field, quoted, row_line);
    Ok(rows)
}

fn end_row(
    rows: &mut Vec<Row>,
    fields: &mut Vec<String>,
    field: &mut String,
    quoted: bool,
    line: usize,
) {
    let blank = fields.is_empty() && !quoted && field.trim().is_empty();
    fields.push(std::mem::take(field));
    let fields = std::mem::take(fields);
    if !blank {
        rows.push(Row { line, fields });
    }
}

/// Appends one row to `out`, ending it with a line break.
pub fn write_row(out: &mut String, fields: &[&str]) {
    for (i, value) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let must_quote = value.contains([',', '"', '\n', '\r'])
            || value.starts_with(' ')
            || value.ends_with(' ');
        if must_quote {
            out.push('"');
            out.push_str(&value.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(value);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(rows: &[Row]) -> Vec<(usize, Vec<&str>)> {
        rows.iter()
            .map(|r| (r.line, r.fields.iter().map(String::as_str).collect()))
            .collect()
    }

    #[test]
    fn reads_what_spreadsheets_write() {
        let text = "\u{feff}phone,name\r\n+1555,\"Ortiz, Ana\"\r\n\r\n+1666, \"Say \"\"hi\"\"\"\r\n+1777,\"two\nlines\"\n+1888,\n";
        let rows = parse(text).unwrap();
        assert_eq!(
            fields(&rows),
            vec![
                (1, vec!["phone", "name"]),
                (2, vec!["+1555", "Ortiz, Ana"]),
                (4, vec!["+1666", "Say \"hi\""]),
                (5, vec!["+1777", "two\nlines"]),
                (7, vec!["+1888", ""]),
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_is_reported_where_it_opens() {
        let err = parse("phone,name\n+1555,\"Ana\n+1666,Ben\n").unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn what_is_written_reads_back() {
        let values = [
            "+15550001111",
            "Ortiz, Ana",
            "Say \"hi\"",
            " padded ",
            "",
            "es en",
        ];
        let mut out = String::new();
        write_row(&mut out, &values);
        assert_eq!(
            out,
            "+15550001111,\"Ortiz, Ana\",\"Say \"\"hi\"\"\",\" padded \",,es en\n"
        );
        let rows = parse(&out).unwrap();
        assert_eq!(rows[0].fields, values);
    }
}
