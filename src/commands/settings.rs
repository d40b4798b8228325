//! `kbridge config`: every setting, its value and where it came from, from
//! the settings table; secrets are never shown.

use crate::commands::Setup;
use serde_json::json;

use crate::cli::ConfigArgs;
use crate::commands::{json, print, runner_context};
use crate::error::Error;
use crate::registry::{Registry, RUNNERS};
use crate::runner::{ConfigRow, Purpose};

pub fn show(args: ConfigArgs, config: &Setup) -> Result<(), Error> {
    let mut rows = Vec::new();
    for def in Registry::builtin().settings() {
        let resolved: Vec<_> = config
            .all()
            .filter(|(_, r)| std::ptr::eq(r.def, def))
            .collect();
        if resolved.is_empty() && !def.key.contains('*') {
            rows.push(ConfigRow {
                key: def.key.to_string(),
                value: String::new(),
                source: "not set".into(),
            });
        }
        for (key, r) in resolved {
            rows.push(ConfigRow {
                key: key.clone(),
                value: if def.secret {
                    "(set)".into()
                } else {
                    r.value.display()
                },
                source: r.source.to_string(),
            });
        }
    }
    for info in RUNNERS {
        rows.extend((info.describe)(&runner_context(
            config,
            info,
            Purpose::Process,
        )));
    }
    // The PostgreSQL password is never shown, but whether one is given,
    // and where from, is.
    if let Some(source) = config.database_password_source() {
        rows.push(ConfigRow {
            key: "database.password_in_use".into(),
            value: if source.is_some() { "(set)" } else { "" }.into(),
            source: source.unwrap_or_else(|| "not set: the server must not ask for one".into()),
        });
    }
    // Where documents actually go, after the precedence between KCIDB_REST
    // and the separate URL and token settings.
    match super::endpoint::resolve(config) {
        Ok(Some(e)) => {
            rows.push(ConfigRow {
                key: "kcidb.endpoint".into(),
                value: format!("{}/submit", crate::http::redact_url(&e.url)),
                source: e.url_source,
            });
            rows.push(ConfigRow {
                key: "kcidb.token_in_use".into(),
                value: "(set)".into(),
                source: e.token_source,
            });
        }
        Ok(None) => rows.push(ConfigRow {
            key: "kcidb.endpoint".into(),
            value: String::new(),
            source: "not set: documents are kept for `kbridge submit`".into(),
        }),
        Err(e) => rows.push(ConfigRow {
            key: "kcidb.endpoint".into(),
            value: String::new(),
            source: e.to_string(),
        }),
    }
    if args.json {
        let map: serde_json::Map<_, _> = rows
            .iter()
            .map(|r| (r.key.clone(), json!({"value": r.value, "source": r.source})))
            .collect();
        return print(&json(&map));
    }
    let file = config
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(none)".into());
    // Columns line up for keys of a sensible length; a longer one (a
    // report source with a very long name) just pushes its row out.
    let width = rows
        .iter()
        .map(|r| r.key.chars().count())
        .filter(|&n| n <= 60)
        .max()
        .unwrap_or(0)
        .max(24);
    let mut text = format!("config file: {file}");
    for r in rows {
        text.push_str(&format!(
            "\n{:<width$} {:<50} ({})",
            r.key, r.value, r.source
        ));
    }
    print(&text)
}
