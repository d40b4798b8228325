use super::*;

fn env(pairs: &[(&str, &str)]) -> Environment {
    Environment::from_pairs(pairs.iter().copied())
}

fn load(
    file: Option<&Path>,
    flags: &[(&'static str, &str)],
    e: Environment,
) -> Result<Config, ConfigError> {
    let mut f = FlagValues::new();
    for (k, v) in flags {
        f.entry(*k).or_default().push(v.to_string());
    }
    Config::load(
        &crate::registry::Registry::builtin().settings(),
        file,
        &f,
        e,
    )
}

#[test]
fn defaults_follow_xdg() {
    let c = load(
        None,
        &[],
        env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/nonexistent")]),
    )
    .unwrap();
    assert_eq!(
        c.database().unwrap(),
        PathBuf::from("/home/u/.local/share/kbridge/kbridge.db").into()
    );
    assert_eq!(c.get(keys::DATABASE).unwrap().source, Source::Default);
    assert_eq!(c.origin(), "kbridge");
    assert!(c.get(keys::CALLBACK_URL).is_none());
    assert_eq!(c.required(keys::HTTP_TIMEOUT), Duration::from_secs(60));
}

#[test]
fn flag_beats_env_beats_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "database = \"rel.db\"\norigin = \"lab_a\"\ncallback_url = \"https://file.example/\"\n",
    )
    .unwrap();
    let e = env(&[
        ("HOME", "/home/u"),
        ("KBRIDGE_CALLBACK_URL", "https://env.example"),
    ]);
    let c = load(Some(&file), &[], e.clone()).unwrap();
    assert_eq!(c.database().unwrap(), dir.path().join("rel.db").into());
    assert_eq!(c.origin(), "lab_a");
    assert_eq!(
        c.get(keys::ORIGIN).unwrap().source,
        Source::File(file.clone(), 2)
    );
    let cb = c.get(keys::CALLBACK_URL).unwrap();
    assert_eq!(cb.value, "https://env.example");
    assert_eq!(cb.source, Source::Env("KBRIDGE_CALLBACK_URL"));

    let c = load(
        Some(&file),
        &[
            (keys::DATABASE.name(), "/x.db"),
            (keys::CALLBACK_URL.name(), "http://flag.example/base/"),
        ],
        e,
    )
    .unwrap();
    assert_eq!(c.get(keys::DATABASE).unwrap().source, Source::Flag("db"));
    assert_eq!(
        c.get(keys::CALLBACK_URL).unwrap().value,
        "http://flag.example/base"
    );
}

#[test]
fn bad_values_are_config_errors_with_the_allowed_range() {
    let e = env(&[("HOME", "/h"), ("KBRIDGE_ORIGIN", "My-Lab")]);
    let err = load(None, &[], e).unwrap_err().to_string();
    assert!(err.contains("KBRIDGE_ORIGIN"), "{err}");

    let e = env(&[("HOME", "/h"), ("KBRIDGE_HTTP_TIMEOUT", "soon")]);
    assert!(load(None, &[], e).is_err());
    let e = env(&[("HOME", "/h"), ("KBRIDGE_HTTP_TIMEOUT", "0")]);
    let err = load(None, &[], e).unwrap_err().to_string();
    assert!(err.contains("use 0.1 to 3600 seconds"), "{err}");

    let err = load(None, &[(keys::BIND.name(), "8080")], env(&[("HOME", "/h")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("give HOST:PORT"), "{err}");
    assert!(load(
        None,
        &[(keys::BIND.name(), "localhost:8080x")],
        env(&[("HOME", "/h")])
    )
    .is_err());
    assert!(load(
        None,
        &[(keys::BIND.name(), "[::1]:0")],
        env(&[("HOME", "/h")])
    )
    .is_ok());
    let c = load(
        None,
        &[(keys::MAX_BODY.name(), "1MiB")],
        env(&[("HOME", "/h")]),
    )
    .unwrap();
    assert_eq!(c.get(keys::MAX_BODY).unwrap().value, 1048576);
    let err = load(
        None,
        &[(keys::MAX_BODY.name(), "lots")],
        env(&[("HOME", "/h")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("such as 512KiB"), "{err}");
}

#[test]
fn file_errors_give_line_column_and_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "origin = \"x\"\ndatabse = \"x\"\n").unwrap();
    let err = load(Some(&file), &[], env(&[("HOME", "/h")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2 column 1: unknown key 'databse'; did you mean 'database'?"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);

    std::fs::write(&file, "\nhttp_timeout = \"sixty\"\n").unwrap();
    let err = load(Some(&file), &[], env(&[("HOME", "/h")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected a number of seconds"), "{err}");
    assert!(err.contains("got the string \"sixty\""), "{err}");
    assert!(err.contains("line 2 column 16"), "{err}");

    std::fs::write(&file, "http_timeout = \"60\"\n").unwrap();
    let err = load(Some(&file), &[], env(&[("HOME", "/h")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "expected a number of seconds, got the string \"60\"; write 60 without quotes"
        ),
        "{err}"
    );

    std::fs::write(&file, "origin = [1,\n").unwrap();
    let err = load(Some(&file), &[], env(&[("HOME", "/h")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("line "), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn units() {
    assert_eq!(parse_duration("90"), Some(90.0));
    assert_eq!(parse_duration("30m"), Some(1800.0));
    assert_eq!(parse_duration("2h"), Some(7200.0));
    assert_eq!(parse_duration("1.5 d"), Some(129600.0));
    assert_eq!(parse_duration("soon"), None);
    assert_eq!(parse_bytes("1MB"), Some(1_000_000));
    assert_eq!(parse_bytes("1MiB"), Some(1_048_576));
    assert_eq!(parse_bytes("512KiB"), Some(524_288));
    assert_eq!(parse_bytes("1.5"), None);
}

#[test]
fn patterns_match_names() {
    let d = setting("lava.labs.*.url", Kind::Url, "");
    assert!(d.matches("lava.labs.mylab.url"));
    assert!(!d.matches("lava.labs.url"));
    assert!(!d.matches("lava.labs.a.b.url"));
    assert_eq!(closest("databse", ["database", "bind"]), Some("database"));
    assert_eq!(closest(&"x".repeat(100_000), ["database"]), None);
    assert_eq!(shown(&"y".repeat(200)).chars().count(), SHOWN_CHARS + 1);
}

#[test]
fn every_key_is_read_as_its_kind() {
    for (key, fits) in keys::ALL {
        let def = CORE
            .iter()
            .find(|d| d.key == *key)
            .unwrap_or_else(|| panic!("{key} has no setting"));
        assert!(
            fits(&def.kind),
            "{key} is read as a type its kind does not give"
        );
    }
    assert_eq!(
        keys::ALL.len(),
        CORE.len(),
        "a setting has no key, or a key no setting"
    );
}
