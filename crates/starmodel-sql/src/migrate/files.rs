//! Migration files on disk: `<dir>/<dialect>/<NNNN>_<slug>.sql`, their checksums and
//! the statements inside them.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::MigrateError;
use crate::Dialect;

/// A migration file found in the migrations directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MigrationFile {
    /// The file name, which is also the name recorded in the history table.
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) text: String,
}

/// The folder holding `dialect`'s files under `dir`.
pub(crate) fn dialect_dir(dir: &Path, dialect: Dialect) -> PathBuf {
    dir.join(dialect.name())
}

/// Every `.sql` file of `dialect` under `dir`, ordered by name (so by number); none when
/// the folder does not exist.
pub(crate) fn read_dir(dir: &Path, dialect: Dialect) -> Result<Vec<MigrationFile>, MigrateError> {
    let folder = dialect_dir(dir, dialect);
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(MigrateError::io(&folder, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| MigrateError::io(&folder, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(".sql") || !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| MigrateError::io(&path, e))?;
        files.push(MigrationFile {
            name: name.to_owned(),
            path,
            text,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// The hex SHA-256 of a migration's text, line endings normalized to `\n` so a
/// checkout that turns them into `\r\n` does not look like an edit.
pub(crate) fn checksum(text: &str) -> String {
    let digest = Sha256::digest(text.replace("\r\n", "\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The leading number of a migration name (`0012_add_x.sql` -> 12).
pub(crate) fn number(name: &str) -> Option<u32> {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `<NNNN>_<slug>.sql`, numbered one past the highest of `taken`.
pub(crate) fn next_name<'a>(taken: impl IntoIterator<Item = &'a str>, slug: &str) -> String {
    let next = taken.into_iter().filter_map(number).max().unwrap_or(0) + 1;
    format!("{next:04}_{slug}.sql")
}

/// Lowercase ASCII letters, digits and single underscores, at most `max` characters,
/// cut at an underscore.
pub(crate) fn slug(words: &str, max: usize) -> String {
    let mut out = String::new();
    for c in words.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_owned();
    if out.len() > max {
        let cut = out[..max].rfind('_').unwrap_or(max);
        out.truncate(cut);
    }
    if out.is_empty() {
        out.push_str("migration");
    }
    out
}

/// The statements of a migration file: the text split at each `;` that is outside
/// quotes and comments, with chunks holding nothing but comments left out.
///
/// Quotes are `'…'` (with `''` inside), `"…"` and `` `…` ``; comments `-- …` to the end
/// of the line and `/* … */`. PostgreSQL's `$$` quoting is not understood.
pub(crate) fn split_statements(text: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum State {
        Code,
        Quoted(char),
        LineComment,
        BlockComment,
    }
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut has_code = false;
    let mut state = State::Code;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Code => match c {
                ';' => {
                    if has_code {
                        statements.push(current.trim().to_owned());
                    }
                    current.clear();
                    has_code = false;
                    continue;
                }
                '\'' | '"' | '`' => {
                    state = State::Quoted(c);
                    has_code = true;
                }
                '-' if chars.peek() == Some(&'-') => state = State::LineComment,
                '/' if chars.peek() == Some(&'*') => {
                    current.push(c);
                    if let Some(star) = chars.next() {
                        current.push(star);
                    }
                    state = State::BlockComment;
                    continue;
                }
                c if !c.is_whitespace() => has_code = true,
                _ => {}
            },
            // A doubled quote inside a quoted run closes and reopens it: same result.
            State::Quoted(q) if c == q => state = State::Code,
            State::Quoted(_) => {}
            State::LineComment if c == '\n' => state = State::Code,
            State::LineComment => {}
            State::BlockComment if c == '*' && chars.peek() == Some(&'/') => {
                current.push(c);
                if let Some(slash) = chars.next() {
                    current.push(slash);
                }
                state = State::Code;
                continue;
            }
            State::BlockComment => {}
        }
        current.push(c);
    }
    if has_code {
        statements.push(current.trim().to_owned());
    }
    statements
}

/// Writes `text` to `path`, creating its folder; refuses to replace a file.
pub(crate) fn write_new(path: &Path, text: &str) -> Result<(), MigrateError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| MigrateError::io(parent, e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| MigrateError::io(path, e))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| MigrateError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_outside_quotes_and_comments() {
        let text = "-- header; with a semicolon\n\
                    CREATE TABLE \"a;b\" (x TEXT DEFAULT 'it''s; fine');\n\
                    /* block; comment */\n\
                    ALTER TABLE `t` ADD COLUMN y BIGINT; -- trailing; note\n\
                    -- only a comment;\n\
                    ;\n\
                    UPDATE t SET y = 1";
        assert_eq!(
            split_statements(text),
            [
                "-- header; with a semicolon\nCREATE TABLE \"a;b\" (x TEXT DEFAULT 'it''s; fine')",
                "/* block; comment */\nALTER TABLE `t` ADD COLUMN y BIGINT",
                "UPDATE t SET y = 1",
            ]
        );
    }

    #[test]
    fn names_are_numbered_past_the_highest_taken() {
        assert_eq!(next_name([], "create_todo"), "0001_create_todo.sql");
        assert_eq!(
            next_name(["0001_a.sql", "0009_b.sql", "0003_c.sql", "notes"], "x"),
            "0010_x.sql"
        );
        assert_eq!(number("0042_add.sql"), Some(42));
        assert_eq!(number("readme.sql"), None);
    }

    #[test]
    fn slugs_are_short_and_plain() {
        assert_eq!(
            slug("add column todo.Priority", 60),
            "add_column_todo_priority"
        );
        assert_eq!(slug("create table aaaa bbbb", 15), "create_table");
        assert_eq!(slug("--", 10), "migration");
    }

    #[test]
    fn checksum_ignores_crlf() {
        assert_eq!(checksum("a;\nb;\n"), checksum("a;\r\nb;\r\n"));
        assert_ne!(checksum("a;\n"), checksum("b;\n"));
        assert_eq!(checksum("").len(), 64);
    }
}
