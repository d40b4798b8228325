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
        (
            "bind",
            config.bind.value.clone(),
            config.bind.source.to_string(),
        ),
        (
            "output_dir",
            config.output_dir.value.display().to_string(),
            config.output_dir.source.to_string(),
        ),
        (
            "max_body",
            config.max_body.value.to_string(),
            config.max_body.source.to_string(),
        ),
        (
            "header_timeout",
            format!("{}", config.header_timeout.value.as_secs_f64()),
            config.header_timeout.source.to_string(),
        ),
        (
            "fetch_retry_for",
            format!("{}", config.fetch_retry_for.value.as_secs_f64()),
            config.fetch_retry_for.source.to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v, s)| (k.to_string(), v, s))
    .chain(config.runners.iter().flat_map(|(code, r)| {
        let keys = r.public_keys.len();
        let key_sources: Vec<String> = r.public_keys.iter().map(|(_, s)| s.to_string()).collect();
        [
            (
                "public_keys",
                format!("{keys} key(s)"),
                if key_sources.is_empty() {
                    "not set".to_string()
                } else {
                    key_sources.join(", ")
                },
            ),
            (
                "artifact_hosts",
                r.artifact_hosts
                    .as_ref()
                    .map(|h| h.value.join(","))
                    .unwrap_or_else(|| "(the runner's defaults)".into()),
                r.artifact_hosts
                    .as_ref()
                    .map(|h| h.source.to_string())
                    .unwrap_or_else(|| "default".into()),
            ),
        ]
        .map(|(k, v, s)| (format!("{code}.{k}"), v, s))
    }))
    .collect::<Vec<_>>();
    if args.json {
        let map: serde_json::Map<_, _> = rows
            .iter()
            .map(|(k, v, s)| (k.clone(), json!({"value": v, "source": s})))
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
        text.push_str(&format!("\n{key:<24} {value:<50} ({source})"));
    }
    print(&text)
}
