//! `kbridge config`: the resolved settings and where each came from.

use serde_json::json;

use crate::cli::ConfigArgs;
use crate::commands::{json, print};
use crate::config::Config;
use crate::error::Error;

pub fn show(args: ConfigArgs, config: &Config) -> Result<(), Error> {
    let rows = [
        (
            "database",
            config.database.value.display().to_string(),
            config.database.source.to_string(),
        ),
        (
            "callback_url",
            config
                .callback_url
                .as_ref()
                .map(|s| s.value.clone())
                .unwrap_or_default(),
            config
                .callback_url
                .as_ref()
                .map(|s| s.source.to_string())
                .unwrap_or_else(|| "not set".into()),
        ),
        (
            "origin",
            config.origin.value.clone(),
            config.origin.source.to_string(),
        ),
        (
            "http_timeout",
            format!("{}", config.http_timeout.value.as_secs_f64()),
            config.http_timeout.source.to_string(),
        ),
        (
            "retry_delay",
            format!("{}", config.retry_delay.value.as_secs_f64()),
            config.retry_delay.source.to_string(),
        ),
    ];
    if args.json {
        let map: serde_json::Map<_, _> = rows
            .iter()
            .map(|(k, v, s)| (k.to_string(), json!({"value": v, "source": s})))
            .collect();
        return print(&json(&map));
    }
    let file = config
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(none)".into());
    let mut text = format!("config file: {file}");
    for (key, value, source) in rows {
        text.push_str(&format!("\n{key:<13} {value:<50} ({source})"));
    }
    print(&text)
}
