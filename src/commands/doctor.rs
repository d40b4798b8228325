//! `kbridge doctor`: checks what the configuration needs, one line each,
//! asking each service one cheap question, and says what to do about what
//! is wrong.

use crate::commands::Setup;
use std::path::Path;

use crate::cli::DoctorArgs;
use crate::commands::{json, print, runner_context};
use crate::config::{keys, Config};
use crate::error::{exit, Error};
use crate::kcidb::client::{Client, SendError};
use crate::runner::{Check, OpenError, Purpose, Verdict};
use crate::store::{Location, Store};

pub fn run(args: DoctorArgs, config: &Setup) -> Result<u8, Error> {
    let mut checks = vec![match &config.file {
        Some(f) => Check::ok("configuration", format!("read from {}", f.display())),
        None => Check::ok(
            "configuration",
            "no config file; flags, environment and defaults",
        ),
    }];
    checks.push(database(&config.database()?));
    if let Some(out) = config.get(keys::OUTPUT_DIR) {
        checks.push(directory("output directory", &out.value));
    }
    checks.push(origin(&config.origin()));
    let callback = config.get(keys::CALLBACK_URL).map(|u| u.value);
    checks.push(callback_url(callback.as_deref()));
    checks.extend(bind(config));
    for info in crate::registry::RUNNERS {
        // Opened as a listener that does not verify: the runner says itself
        // what verifying would lack.
        match (info.open)(&runner_context(
            config,
            info,
            Purpose::Listen { verify: false },
        )) {
            Ok(r) => checks.extend(r.doctor(callback.is_some())),
            Err(OpenError::NotConfigured(why) | OpenError::Unused(why)) => {
                checks.push(Check::note(info.code, why))
            }
            Err(e) => checks.push(Check::fail(info.code, e.to_string())),
        }
    }
    checks.push(kcidb(config));
    checks.extend(refusals(&config.database()?));

    let ok = checks.iter().all(|c| c.verdict != Verdict::Fail);
    if args.json {
        print(&json(&serde_json::json!({"ok": ok, "checks": checks})))?;
    } else {
        let lines: Vec<String> = checks
            .iter()
            .map(|c| {
                let mark = match c.verdict {
                    Verdict::Ok => "✓",
                    Verdict::Fail => "✗",
                    Verdict::Note => "-",
                };
                format!("{mark} {}: {}", c.what, c.detail)
            })
            .collect();
        print(&lines.join("\n"))?;
    }
    Ok(if ok { exit::SUCCESS } else { exit::FAILURE })
}

/// The store: writable and at the current schema, or creatable; on
/// PostgreSQL, also the listeners alive beside this host.
fn database(at: &Location) -> Check {
    let Some(path) = at.file() else {
        return match Store::open_existing(at).and_then(|mut s| {
            s.check_writable()?;
            let fresh = crate::pipeline::poller::LISTENER_FRESH.as_millis() as i64;
            let since = crate::clock::now_ms() - fresh;
            s.read().listeners_alive(since)
        }) {
            Ok(alive) => {
                let named: Vec<String> = alive
                    .iter()
                    .map(|(id, bind)| {
                        format!("{} on {bind}", crate::pipeline::claims::describe(id))
                    })
                    .collect();
                Check::ok(
                    "database",
                    format!(
                        "PostgreSQL {at}: writable, schema {}; {} listener(s) alive{}",
                        crate::store::SCHEMA_VERSION,
                        alive.len(),
                        if named.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", named.join(", "))
                        }
                    ),
                )
            }
            Err(e) => Check::fail("database", e.to_string()),
        };
    };
    if !path.exists() {
        return match writable_ancestor(path) {
            Ok(dir) => Check::ok(
                "database",
                format!(
                    "{} does not exist yet; the first `kbridge schedule` creates it ({} is writable)",
                    path.display(),
                    dir.display()
                ),
            ),
            Err(why) => Check::fail("database", why),
        };
    }
    match Store::open_existing(path).and_then(|mut s| s.check_writable()) {
        Ok(()) => Check::ok(
            "database",
            format!("{}: writable, schema current", path.display()),
        ),
        Err(e) => Check::fail("database", e.to_string()),
    }
}

fn directory(what: &str, path: &Path) -> Check {
    match writable_ancestor(path) {
        Ok(dir) if dir == path => Check::ok(what, format!("{} is writable", path.display())),
        Ok(dir) => Check::ok(
            what,
            format!(
                "{} will be created ({} is writable)",
                path.display(),
                dir.display()
            ),
        ),
        Err(why) => Check::fail(what, why),
    }
}

/// The nearest directory at or above `path` that exists, if a file can be
/// made in it.
fn writable_ancestor(path: &Path) -> Result<std::path::PathBuf, String> {
    let mut dir = path;
    while !dir.exists() {
        dir = dir.parent().unwrap_or(Path::new("/"));
    }
    if dir.is_file() {
        dir = dir.parent().unwrap_or(Path::new("/"));
    }
    let probe = dir.join(format!(".kbridge-doctor.{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(dir.to_path_buf())
        }
        Err(e) => Err(format!(
            "cannot write in {}: {e}; fix its permissions or choose another place",
            dir.display()
        )),
    }
}

fn origin(origin: &str) -> Check {
    if origin == "kbridge" {
        Check::note(
            "origin",
            "the default 'kbridge': ask the KCIDB maintainers for an origin of your own and set `origin` before submitting",
        )
    } else {
        Check::ok("origin", format!("'{origin}'"))
    }
}

fn callback_url(url: Option<&str>) -> Check {
    let Some(url) = url else {
        return Check::note(
            "callback URL",
            "not set: runners do not call back, and `kbridge wait` polls for results",
        );
    };
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| url.starts_with(p));
    if url.starts_with("https://") {
        Check::ok("callback URL", url.to_string())
    } else if loopback {
        Check::note(
            "callback URL",
            format!("{url} is plain http on this machine: fine for trying things out, unreachable for a hosted runner"),
        )
    } else {
        Check::fail(
            "callback URL",
            format!("{url} is not https: callback tokens would travel in the clear; put the listener behind TLS"),
        )
    }
}

fn kcidb(config: &Config) -> Check {
    let endpoint = match super::endpoint::resolve(config) {
        Ok(Some(e)) => e,
        Ok(None) => {
            return Check::note(
                "kcidb",
                "no KCIDB URL: documents are kept for `kbridge submit`",
            )
        }
        Err(e) => return Check::fail("kcidb", e.to_string()),
    };
    let shown = format!(
        "{} (token from {})",
        crate::http::redact_url(&endpoint.url),
        endpoint.token_source
    );
    let mismatch = endpoint.origin_warning(&config.origin());
    let client = Client::new(endpoint, config.required(keys::HTTP_TIMEOUT));
    if let Some(w) = mismatch {
        return Check::fail("kcidb", format!("{shown}: {w}"));
    }
    // Asking about a submission that does not exist needs the token and
    // changes nothing. KCIDB takes only letters and digits in an id.
    const KNOWN: [&str; 5] = ["inprogress", "ready", "processed", "failed", "notfound"];
    let not_kcidb = |what: String| {
        Check::fail(
            "kcidb",
            format!("{shown}: {what}, so it is not KCIDB's REST API; check KCIDB_REST or --kcidb-url (the base, without /submit)"),
        )
    };
    match client.status("kbridgedoctor0") {
        Ok(i) if KNOWN.contains(&i.status.as_str()) => {
            Check::ok("kcidb", format!("{shown}: reachable, and the token works"))
        }
        Ok(i) => not_kcidb(format!("its /status answered '{}'", i.status)),
        Err(e @ SendError::Unauthorized { .. }) => Check::fail(
            "kcidb",
            format!("{shown}: token refused ({e}); get a new token"),
        ),
        Err(SendError::WrongUrl { status, .. }) => {
            not_kcidb(format!("it has no /status ({status})"))
        }
        Err(SendError::Rejected { status, message }) => {
            not_kcidb(format!("its /status answered {status} ({message})"))
        }
        Err(e) => Check::fail("kcidb", format!("{shown}: {e}")),
    }
}

/// Callbacks a listener on this database refused in the last hour, one
/// line per runner and reason.
fn refusals(path: &Location) -> Vec<Check> {
    let Ok(store) = Store::open_existing(path) else {
        return vec![];
    };
    super::wait::refused_lately(&store)
        .into_iter()
        .map(|r| Check::fail(format!("{} callbacks", r.runner), r.line()))
        .collect()
}

/// The address `kbridge listen` would listen on: free, or taken.
fn bind(config: &Config) -> Option<Check> {
    let addr = config.get(keys::BIND)?.value;
    Some(match std::net::TcpListener::bind(&addr) {
        Ok(_) => Check::ok("listen address", format!("{addr} is free to listen on")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Check::note(
            "listen address",
            format!("{addr} is in use: by a kbridge listen already running, or another program (`ss -ltnp` says which)"),
        ),
        Err(e) => Check::fail(
            "listen address",
            format!("cannot listen on {addr}: {e}; choose another with --bind"),
        ),
    })
}
