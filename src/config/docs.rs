//! The settings table is the one source of truth: `--help`, README.md
//! and docs/configuration.md must agree with it.

use super::*;

const BEGIN: &str = "<!-- BEGIN settings table";
const END: &str = "<!-- END settings table -->";

fn where_flag(on: &[&str]) -> String {
    let places: Vec<String> = on
        .iter()
        .map(|p| match *p {
            "" => "every command".to_string(),
            p => format!("`{}`", p.replace(" *", "")),
        })
        .collect();
    places.join(", ")
}

/// The table docs/configuration.md carries.
fn markdown_table() -> String {
    let mut out =
        String::from("| key | flag | environment | default | meaning |\n|---|---|---|---|---|\n");
    for def in crate::registry::Registry::builtin().settings() {
        let flag = def
            .flag
            .map(|f| {
                let value = f.value_name.map(|v| format!(" {v}")).unwrap_or_default();
                format!("`--{}{value}` ({})", f.long, where_flag(f.on))
            })
            .unwrap_or_default();
        let env = def.env.map(|e| format!("`{e}`")).unwrap_or_default();
        let default = def
            .default
            .describe()
            .map(|d| format!("`{d}`"))
            .unwrap_or_else(|| "none".into());
        let range = match def.kind {
            Kind::Seconds { min, max } => format!(
                " A duration, {} to {} seconds.",
                trim_float(min),
                trim_float(max)
            ),
            Kind::Bytes { min, max } => format!(" A size, {min} to {max} bytes."),
            Kind::Count { min, max } => format!(" {min} to {max}."),
            Kind::Choice(words) => format!(" One of: {}.", words.join(", ")),
            _ => String::new(),
        };
        let secret = if def.secret {
            " Secret: never shown."
        } else {
            ""
        };
        out.push_str(&format!(
            "| `{}` | {flag} | {env} | {default} | {}.{range}{secret} |\n",
            def.key, def.doc
        ));
    }
    out
}

fn repo_file(name: &str) -> (std::path::PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

#[test]
fn configuration_md_carries_the_table() {
    let (path, text) = repo_file("docs/configuration.md");
    let start = text
        .find(BEGIN)
        .expect("docs/configuration.md has the table markers");
    let body_start = start + text[start..].find('\n').unwrap() + 1;
    let end = text
        .find(END)
        .expect("docs/configuration.md has the end marker");
    let fresh = markdown_table();
    if std::env::var_os("KBRIDGE_UPDATE_GENERATED").is_some() {
        let updated = format!("{}{fresh}{}", &text[..body_start], &text[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &text[body_start..end],
        fresh,
        "docs/configuration.md is out of date: KBRIDGE_UPDATE_GENERATED=1 cargo test configuration_md rewrites it"
    );
}

#[test]
fn readme_rows_agree_with_the_table() {
    let (_, text) = repo_file("README.md");
    let defs = crate::registry::Registry::builtin().settings();
    let mut rows = 0;
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let key = cells[0].trim_matches('`');
        let Some(def) = defs.iter().find(|d| d.key == key) else {
            // Other tables (exit statuses, job states) start the same way.
            continue;
        };
        rows += 1;
        let flag = def
            .flag
            .map(|f| format!("--{}", f.long))
            .unwrap_or_default();
        assert!(
            cells[1].contains(&flag),
            "README row for {key}: flag should be {flag}: {line}"
        );
        assert_eq!(
            cells[2].trim_matches('`'),
            def.env.unwrap_or(""),
            "README row for {key}: {line}"
        );
        let default = def.default.describe().unwrap_or("none");
        assert!(
            cells[3].contains(default),
            "README row for {key}: default should be {default}: {line}"
        );
    }
    assert!(rows >= 8, "README.md's settings table is missing");
}

#[test]
fn help_names_every_flag_with_its_variable() {
    let mut cmd = crate::cli::command();
    cmd.build();
    for def in crate::registry::Registry::builtin().settings() {
        let Some(flag) = def.flag else { continue };
        for path in flag.on {
            let mut sub = &cmd;
            for part in path.split_whitespace() {
                if part == "*" {
                    sub = sub.get_subcommands().next().expect("a subcommand");
                } else {
                    sub = sub.find_subcommand(part).expect("the command exists");
                }
            }
            // Wrapping may split "[env: NAME]" over two lines.
            let help = sub
                .clone()
                .render_long_help()
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                help.contains(&format!("--{}", flag.long)),
                "{path}: no --{}",
                flag.long
            );
            if let Some(env) = def.env {
                assert!(
                    help.contains(&format!("[env: {env}]")),
                    "{path}: --{} does not name {env}",
                    flag.long
                );
            }
        }
    }
}
