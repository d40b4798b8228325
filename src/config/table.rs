//! What a setting is: its kind and bounds, its flag, its default, and the
//! builder the settings tables are written with.

use super::*;

/// What kind of value a setting takes, with the bounds that are checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    /// A file or directory. In the TOML file, relative paths are relative
    /// to the file and `~/` is the home directory.
    Path,
    /// Where the store is: a file's path (as [`Kind::Path`]) or a
    /// `postgresql://` URL, whose password is never shown.
    Store,
    /// An absolute `http(s)` URL; a trailing `/` is dropped.
    Url,
    /// `host:port`.
    Addr,
    /// A KCIDB origin: `^[a-z0-9_]+$`.
    Origin,
    /// A duration: a number of seconds, or a number with `s`, `m`, `h` or
    /// `d`.
    Seconds {
        min: f64,
        max: f64,
    },
    /// A size: a number of bytes, or a number with `KiB`, `MiB`, `GiB`
    /// (1024-based) or `kB`, `MB`, `GB` (1000-based).
    Bytes {
        min: u64,
        max: u64,
    },
    /// A whole number.
    Count {
        min: u64,
        max: u64,
    },
    Bool,
    /// Several strings: a repeated flag, a comma-separated variable, or a
    /// TOML array. With `append`, flags add to the file's list instead of
    /// replacing it.
    List {
        append: bool,
    },
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
}

/// A setting's flag.
#[derive(Debug, Clone, Copy)]
pub struct FlagDef {
    /// Without the leading `--`.
    pub long: &'static str,
    /// The placeholder in `--help`; `None` for a switch that takes no
    /// value.
    pub value_name: Option<&'static str>,
    /// For a switch, the value it sets.
    pub sets: &'static str,
    /// For a switch, what it does, when the setting's doc (which says what
    /// the setting is) would read backwards on the switch.
    pub help: Option<&'static str>,
    /// The commands that take it, as paths (`"listen"`, `"schedule build"`,
    /// `"schedule *"` for every `schedule` command, `""` for every command).
    pub on: &'static [&'static str],
}

/// A setting's default.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    /// No value unless one is given.
    None,
    /// This value.
    Value(&'static str),
    /// Worked out at run time (a path under the data directory, the first
    /// registered runner): `describe` is what documentation shows.
    Computed {
        describe: &'static str,
        compute: fn(&Environment) -> Option<String>,
    },
    /// Chosen by the code that uses it; `describe` says what it is.
    Described(&'static str),
}

impl DefaultValue {
    /// The default as documentation shows it.
    pub fn describe(&self) -> Option<&'static str> {
        match self {
            DefaultValue::None => None,
            DefaultValue::Value(v) => Some(v),
            DefaultValue::Computed { describe, .. } | DefaultValue::Described(describe) => {
                Some(describe)
            }
        }
    }
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct SettingDef {
    /// The key in the TOML file; dots are tables (`tuxsuite.public_keys` is
    /// `public_keys` under `[tuxsuite]`), and `*` stands for any name
    /// (`lava.labs.*.url`).
    pub key: &'static str,
    pub flag: Option<FlagDef>,
    pub env: Option<&'static str>,
    pub default: DefaultValue,
    pub kind: Kind,
    /// Never shown: `kbridge config` says only whether it is set.
    pub secret: bool,
    /// Whether the TOML file may set it (secrets are given as files there,
    /// never inline).
    pub in_file: bool,
    /// One line for `--help`, `kbridge config` and the documentation.
    pub doc: &'static str,
}

/// A setting with no flag, variable or default yet; the builder methods
/// below add them.
pub const fn setting(key: &'static str, kind: Kind, doc: &'static str) -> SettingDef {
    SettingDef {
        key,
        flag: None,
        env: None,
        default: DefaultValue::None,
        kind,
        secret: false,
        in_file: true,
        doc,
    }
}

impl SettingDef {
    pub const fn flag(
        mut self,
        long: &'static str,
        value_name: &'static str,
        on: &'static [&'static str],
    ) -> Self {
        self.flag = Some(FlagDef {
            long,
            value_name: Some(value_name),
            sets: "",
            help: None,
            on,
        });
        self
    }

    pub const fn switch(
        mut self,
        long: &'static str,
        sets: &'static str,
        on: &'static [&'static str],
    ) -> Self {
        self.flag = Some(FlagDef {
            long,
            value_name: None,
            sets,
            help: None,
            on,
        });
        self
    }

    /// What a switch does, in its own words.
    pub const fn switch_help(mut self, help: &'static str) -> Self {
        if let Some(f) = self.flag.as_mut() {
            f.help = Some(help);
        }
        self
    }

    pub const fn env(mut self, name: &'static str) -> Self {
        self.env = Some(name);
        self
    }

    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = DefaultValue::Value(value);
        self
    }

    pub const fn computed(
        mut self,
        describe: &'static str,
        compute: fn(&Environment) -> Option<String>,
    ) -> Self {
        self.default = DefaultValue::Computed { describe, compute };
        self
    }

    pub const fn described(mut self, describe: &'static str) -> Self {
        self.default = DefaultValue::Described(describe);
        self
    }

    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Not a key of the TOML file: only a flag or the environment sets it.
    pub const fn not_in_file(mut self) -> Self {
        self.in_file = false;
        self
    }

    /// Whether `key` (a concrete key from the file) is this setting.
    pub(super) fn matches(&self, key: &str) -> bool {
        let mut want = self.key.split('.');
        let mut got = key.split('.');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some("*"), Some(g)) if !g.is_empty() => {}
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }

    pub(super) fn is_pattern(&self) -> bool {
        self.key.contains('*')
    }
}

/// A setting's key, with the type its value is read as
/// ([`Config::get`]): reading a key as another type does not compile.
pub struct Key<T> {
    name: &'static str,
    value: std::marker::PhantomData<fn() -> T>,
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

impl<T> fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl<T: Read> Key<T> {
    pub const fn new(name: &'static str) -> Key<T> {
        Key {
            name,
            value: std::marker::PhantomData,
        }
    }
}

impl<T> Key<T> {
    /// The key as written in `config.toml`.
    pub const fn name(self) -> &'static str {
        self.name
    }
}

/// A type a setting's value is read as, and the kinds whose values it holds.
pub trait Read: Sized {
    fn read(value: &Value) -> Option<Self>;
    fn fits(kind: &Kind) -> bool;
}

impl Read for String {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
    fn fits(kind: &Kind) -> bool {
        matches!(
            kind,
            Kind::Text | Kind::Url | Kind::Addr | Kind::Origin | Kind::Choice(_)
        )
    }
}

impl Read for PathBuf {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Path(p) => Some(p.clone()),
            _ => None,
        }
    }
    fn fits(kind: &Kind) -> bool {
        matches!(kind, Kind::Path)
    }
}

impl Read for crate::location::Location {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Store(l) => Some(l.clone()),
            _ => None,
        }
    }
    fn fits(kind: &Kind) -> bool {
        matches!(kind, Kind::Store)
    }
}

impl Read for Duration {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Seconds(d) => Some(*d),
            _ => None,
        }
    }
    fn fits(kind: &Kind) -> bool {
        matches!(kind, Kind::Seconds { .. })
    }
}

impl Read for u64 {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    fn fits(kind: &Kind) -> bool {
        matches!(kind, Kind::Bytes { .. } | Kind::Count { .. })
    }
}

impl Read for bool {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn fits(kind: &Kind) -> bool {
        matches!(kind, Kind::Bool)
    }
}

impl Read for Vec<String> {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::List(l) => Some(l.clone()),
            _ => None,
        }
    }
    fn fits(kind: &Kind) -> bool {
        matches!(kind, Kind::List { .. })
    }
}
