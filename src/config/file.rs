//! Reading `config.toml`: its keys flattened to dotted names, each with the
//! line and column it is on, for errors that point at the value.

use super::*;

/// A value as found in the TOML file.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FileValue {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<FileValue>),
    Other(&'static str),
}

impl FileValue {
    /// "the string \"60\"", for messages.
    pub(super) fn describe(&self) -> String {
        match self {
            FileValue::String(s) => format!("the string \"{}\"", s.escape_default()),
            FileValue::Integer(i) => format!("the number {i}"),
            FileValue::Float(f) => format!("the number {f}"),
            FileValue::Bool(b) => format!("{b}"),
            FileValue::Array(_) => "a list".into(),
            FileValue::Other(what) => format!("a {what}"),
        }
    }
}

/// A value in the file and the line it is on.
#[derive(Debug, Clone)]
pub(super) struct Located {
    pub(super) value: FileValue,
    pub(super) line: usize,
    pub(super) column: usize,
    /// Where the value starts, for errors about it.
    pub(super) value_at: (usize, usize),
}

/// The TOML file, flattened to dotted keys.
#[derive(Debug, Default)]
pub(super) struct FileSettings {
    pub(super) path: Option<PathBuf>,
    pub(super) values: BTreeMap<String, Located>,
}

/// Finds and parses the TOML file: `config_file` (from `--config`), else
/// `KBRIDGE_CONFIG`, else the default path if it exists. A file named
/// explicitly must exist.
pub(super) fn read_file(
    config_file: Option<&Path>,
    env: &Environment,
) -> Result<FileSettings, ConfigError> {
    let (path, given_by) = if let Some(p) = config_file {
        (p.to_path_buf(), Source::Flag("config"))
    } else if let Some(p) = env.get("KBRIDGE_CONFIG") {
        (PathBuf::from(p), Source::Env("KBRIDGE_CONFIG"))
    } else {
        match env.config_home() {
            Some(dir) => {
                let p = dir.join("kbridge").join("config.toml");
                if !p.exists() {
                    return Ok(FileSettings::default());
                }
                (p, Source::Default)
            }
            None => return Ok(FileSettings::default()),
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
        path: path.clone(),
        given_by,
        message: e.to_string(),
    })?;
    let table = toml::de::DeTable::parse(&text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|s| Lines::new(&text).at(s.start))
            .unwrap_or((1, 1));
        ConfigError::Parse {
            path: path.clone(),
            line,
            column,
            // toml's own message spans several lines with a source excerpt;
            // keep the first line so the error stays one line.
            message: e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_string(),
        }
    })?;
    let mut values = BTreeMap::new();
    flatten(&Lines::new(&text), "", table.get_ref(), &mut values);
    Ok(FileSettings {
        path: Some(path),
        values,
    })
}

pub(super) fn flatten(
    lines: &Lines<'_>,
    prefix: &str,
    table: &toml::de::DeTable<'_>,
    out: &mut BTreeMap<String, Located>,
) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        if let Some(inner) = value.get_ref().as_table() {
            flatten(lines, &full, inner, out);
            continue;
        }
        let (line, column) = lines.at(key.span().start);
        out.insert(
            full,
            Located {
                value: convert(value.get_ref()),
                line,
                column,
                value_at: lines.at(value.span().start),
            },
        );
    }
}

pub(super) fn convert(v: &toml::de::DeValue<'_>) -> FileValue {
    use toml::de::DeValue as D;
    match v {
        D::String(s) => FileValue::String(s.to_string()),
        D::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(FileValue::Integer)
            .unwrap_or(FileValue::Other("number too large")),
        D::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse()
            .map(FileValue::Float)
            .unwrap_or(FileValue::Other("number")),
        D::Boolean(b) => FileValue::Bool(*b),
        D::Array(items) => FileValue::Array(items.iter().map(|i| convert(i.get_ref())).collect()),
        D::Datetime(_) => FileValue::Other("date"),
        D::Table(_) => FileValue::Other("table"),
    }
}

/// Where each line of a text starts, so a byte offset becomes a line and
/// column in logarithmic time: a file with many keys costs no more than
/// reading it.
pub(super) struct Lines<'a> {
    pub(super) text: &'a str,
    pub(super) starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(super) fn new(text: &'a str) -> Lines<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(super) fn at(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |l| l.chars().count())
            + 1;
        (line, column)
    }
}
