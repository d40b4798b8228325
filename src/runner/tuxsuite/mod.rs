//! TuxSuite, Linaro's hosted kernel build and test service.
//!
//! Tests and boot tests go to `POST {project}/tests` (one object in, one
//! object out); builds go to `POST {project}/builds` (`{"builds": [..]}` in,
//! an array out). The token is sent raw in `Authorization`, with no
//! `Bearer`. Retries follow the official client, with one difference that
//! matters: TuxSuite has no idempotency key for tests, so a test request is
//! retried only when it surely never arrived or the service asked for a
//! retry (429/503 with `Retry-After`). Builds carry a fresh `client_token`
//! and are retried with the same one.

mod callback;
mod options;
mod plan;
mod results;
mod settings;
mod signature;

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::config::{setting, Environment, Key, Kind, Section, SettingDef, Source};
use crate::http::{self, Reach};
use crate::model::{BuildSpec, Callback, Job, JobKind, JobResults, JobSpec, TestSpec};
use crate::retry::Backoff;
use crate::runner::{
    Accepted, Artefacts, CallbackAuth, CallbackTarget, Cancel, Chaining, Check, ConfigRow,
    Feedback, FetchError, Logs, OpenError, ParseError, PlanSink, Plans, Polled, PrepareError,
    Protocol, Purpose, Runner, RunnerContext, RunnerInfo, StageError, Submission, SubmitError,
    Track, VerifyError, CALLBACK_TOKEN_HEADER,
};

pub use settings::Settings;
pub use signature::PublicKey;

/// The settings kbridge keeps for TuxSuite, under `[tuxsuite]`. The
/// service's own (token, group, project, API URL) are read where the
/// official client keeps them; see `settings.rs`.
const SETTINGS: &[SettingDef] = &[
    setting(
        PUBLIC_KEYS.name(),
        Kind::List { append: true },
        "TuxSuite's OpenSSH public key(s) that sign callbacks: key lines, or files of them (`tuxsuite keys get`); repeatable, for key rotation",
    )
    .flag("tuxsuite-public-key", "FILE", &["listen", "doctor"]),
    setting(
        ARTIFACT_HOSTS.name(),
        Kind::List { append: false },
        "Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API's own host is always allowed",
    )
    .flag("allow-artifact-host", "HOST", &["listen", "wait", "schedule *", "doctor"])
    .env("KBRIDGE_TUXSUITE_ARTIFACT_HOSTS")
    .described("storage.tuxsuite.com"),
];

const PUBLIC_KEYS: Key<Vec<String>> = Key::new("tuxsuite.public_keys");
/// The systemd credentials kbridge reads: TuxSuite's signing keys, and
/// its token.
const KEY_CREDENTIAL: &str = "tuxsuite.pub";
pub const TOKEN_CREDENTIAL: &str = "tuxsuite-token";
const ARTIFACT_HOSTS: Key<Vec<String>> = Key::new("tuxsuite.artifact_hosts");

/// The registry entry.
pub const INFO: RunnerInfo = RunnerInfo {
    code: "tuxsuite",
    description: "TuxSuite (tuxsuite.com): kernel builds, tests and boot tests",
    settings: SETTINGS,
    options: options::OPTIONS,
    open,
    describe,
};

/// The make targets the official client asks for when none is named.
const DEFAULT_TARGETS: [&str; 6] = [
    "config",
    "debugkernel",
    "dtbs",
    "kernel",
    "modules",
    "xipkernel",
];

/// Firmware fields the official client always sends, null unless set
/// (FVP and Juno only).
const FIRMWARE: [&str; 6] = [
    "fip",
    "ap_romfw",
    "mcp_fw",
    "mcp_romfw",
    "scp_fw",
    "scp_romfw",
];

/// The LAVA lab and host the official client names in every test.
const DEFAULT_LAB: &str = "https://lkft.validation.linaro.org";
const DEFAULT_HOST: &str = "x86_64";

/// How many times one request is sent at most, as in the official client.
const MAX_TRIES: u32 = 3;

/// Where TuxSuite serves artefacts from, besides its API's own origin.
const DEFAULT_ARTIFACT_HOSTS: [&str; 1] = ["storage.tuxsuite.com"];

fn open(ctx: &RunnerContext<'_>) -> Result<Box<dyn Runner>, OpenError> {
    let account = OnceLock::new();
    let dry_run_note = OnceLock::new();
    let api_url = match ctx.purpose {
        // Scheduling needs the whole account now, so a missing token is
        // reported before anything is recorded.
        Purpose::Schedule { dry_run } => {
            let s = match Settings::resolve(ctx.env, ctx.http_timeout) {
                Ok(s) => s,
                // A dry run shows the request even before the user has an
                // account, with placeholders for what is missing.
                Err(e @ (OpenError::Config(_) | OpenError::Unreachable(_))) if dry_run => {
                    let (s, note) = Settings::placeholder(ctx.env, &e.to_string())?;
                    let _ = dry_run_note.set(note);
                    s
                }
                Err(e) => return Err(e),
            };
            let url = s.api_url.clone();
            let _ = account.set(Ok(s));
            url
        }
        Purpose::Listen { .. } | Purpose::Process => Settings::api_url(ctx.env)?,
    };
    let keys = match ctx.purpose {
        Purpose::Listen { verify } => listen_keys(ctx.settings, ctx.env, verify)?,
        _ => vec![],
    };
    let api = api_url
        .parse::<::http::Uri>()
        .ok()
        .and_then(|u| results::Origin::of(&u));
    let allowed = match ctx.settings.get(ARTIFACT_HOSTS) {
        Some(entries) => entries
            .value
            .iter()
            .map(|e| {
                results::AllowedHost::parse(e).map_err(|message| {
                    OpenError::Config(crate::config::ConfigError::Invalid {
                        key: ARTIFACT_HOSTS.name().into(),
                        from: entries.source.clone(),
                        message,
                    })
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => DEFAULT_ARTIFACT_HOSTS
            .iter()
            .filter_map(|h| results::AllowedHost::parse(h).ok())
            .collect(),
    };
    Ok(Box::new(TuxSuite {
        agent: http::agent(ctx.http_timeout),
        artifacts: results::Fetcher::new(
            ctx.http_timeout,
            allowed,
            api,
            Settings::token_if_any(ctx.env),
            ctx.artifact_caps,
        ),
        env: ctx.env.clone(),
        account,
        dry_run_note: dry_run_note.into_inner(),
        keys,
        timeout: ctx.http_timeout,
        backoff: ctx.backoff.exact(),
    }))
}

fn describe(ctx: &RunnerContext<'_>) -> Vec<ConfigRow> {
    Settings::describe(ctx.env)
}

/// The keys that verify callbacks. Only a listener reads the key files;
/// without a key it is not configured to receive TuxSuite callbacks,
/// unless verification is explicitly off.
fn listen_keys(
    settings: Section<'_>,
    env: &Environment,
    verify: bool,
) -> Result<Vec<PublicKey>, OpenError> {
    let mut keys = Vec::new();
    if let Some(entries) = settings.get(PUBLIC_KEYS) {
        for entry in &entries.value {
            keys.extend(key_entry(entry, &entries.source, env)?);
        }
    }
    // Under systemd, LoadCredential=tuxsuite.pub:… adds its keys.
    if let Some(path) = env.credential(KEY_CREDENTIAL) {
        let source = Source::Env("CREDENTIALS_DIRECTORY");
        keys.extend(key_entry(&path.to_string_lossy(), &source, env)?);
    }
    if verify && keys.is_empty() {
        return Err(OpenError::NotConfigured(
            "no TuxSuite public key configured, so callbacks cannot be verified: get it with `tuxsuite keys get` (or GET {api}/v1/groups/{group}/projects/{project}/keys, field ssh.pub) and pass --tuxsuite-public-key FILE or set public_keys under [tuxsuite] in config.toml (--insecure-skip-verify is for development only)".into(),
        ));
    }
    Ok(keys)
}

/// One `public_keys` entry: a key line, or a file of key lines (relative
/// to the config file when it came from there).
fn key_entry(entry: &str, source: &Source, env: &Environment) -> Result<Vec<PublicKey>, OpenError> {
    let bad = |message: String| OpenError::Config(crate::config::ConfigError::Runner(message));
    let entry = entry.trim();
    if KEY_TYPES.iter().any(|p| entry.starts_with(p)) {
        let key = PublicKey::from_openssh(entry).map_err(|e| {
            bad(format!(
                "TuxSuite public key from {source} is {e}; use the ssh.pub line that `tuxsuite keys get` prints"
            ))
        })?;
        return Ok(vec![key]);
    }
    let mut path = env.expand_home(entry);
    if let (Source::File(file, _), true) = (source, path.is_relative()) {
        if let Some(dir) = file.parent() {
            path = dir.join(path);
        }
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        bad(format!(
            "tuxsuite.public_keys from {source}: cannot read {}: {e}",
            path.display()
        ))
    })?;
    keys_in(&text).map_err(|(line, e)| {
        bad(format!(
            "TuxSuite public key file {} (from {source}) line {line}: {e}",
            path.display()
        ))
    })
}

/// Key types an OpenSSH public key line starts with.
const KEY_TYPES: [&str; 3] = ["ecdsa-", "ssh-", "sk-"];

/// The keys in a key file, in any form `tuxsuite keys get` writes: its
/// plain output (a `ssh public key:` label, then the key line), a file of
/// key lines (comments with `#`), or its `--json` answer (`ssh.pub`). The
/// error names the line and what was expected there.
fn keys_in(text: &str) -> Result<Vec<PublicKey>, (usize, String)> {
    const EXPECTED: &str = "expected an OpenSSH public key line (ecdsa-sha2-nistp256 AAAA…) as `tuxsuite keys get` prints it";
    if text.trim_start().starts_with('{') {
        let line = text.len() - text.trim_start().len();
        let line = text[..line].lines().count().max(1);
        let json: Value = serde_json::from_str(text)
            .map_err(|e| (e.line(), format!("not valid JSON ({e}); {EXPECTED}")))?;
        let key = json
            .pointer("/ssh/pub")
            .or_else(|| json.get("ssh.pub"))
            .and_then(Value::as_str)
            .ok_or((line, format!("a JSON object without ssh.pub; {EXPECTED}")))?;
        return PublicKey::from_openssh(key)
            .map(|k| vec![k])
            .map_err(|e| (line, format!("ssh.pub is {e}")));
    }
    let mut keys = Vec::new();
    // `tuxsuite keys get` prints sections (`ssh public key:`, `pat keys:`,
    // `variables keys:`); only the first holds keys.
    let mut section: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The key may follow its label on the same line.
        let start = line
            .split_whitespace()
            .find(|w| KEY_TYPES.iter().any(|t| w.starts_with(t)))
            .map(|w| &line[line.find(w).unwrap_or(0)..]);
        match start {
            Some(key) => keys.push(PublicKey::from_openssh(key).map_err(|e| (n + 1, e))?),
            None if line.ends_with(':') => {
                section = Some(line.trim_end_matches(':').trim().to_ascii_lowercase());
            }
            None if section.as_deref().is_some_and(|s| s != "ssh public key") => {}
            None => {
                let shown: String = line.chars().take(40).collect();
                return Err((n + 1, format!("{EXPECTED}, found \"{shown}\"")));
            }
        }
    }
    if keys.is_empty() {
        return Err((
            text.lines().count().max(1),
            format!("no key in the file; {EXPECTED}"),
        ));
    }
    Ok(keys)
}

/// The TuxSuite runner.
pub struct TuxSuite {
    agent: ureq::Agent,
    artifacts: results::Fetcher,
    env: crate::config::Environment,
    /// Token, group, project and API URL: resolved when opened to
    /// schedule, and on first use otherwise (polling), since finding the
    /// group may ask the auth service.
    account: OnceLock<Result<Settings, String>>,
    /// Set when a dry run stands in placeholders for a missing account.
    dry_run_note: Option<String>,
    /// Present when opened to receive callbacks.
    keys: Vec<PublicKey>,
    timeout: Duration,
    backoff: Backoff,
}

/// What to do after one attempt.
enum Next {
    /// A 2xx answer (parsed when it is JSON, and as text), or why not.
    Done(Result<(Option<Value>, String), SubmitError>),
    /// Try again after the pause (`None`: the usual backoff). `maybe_sent`
    /// records that this attempt may have reached TuxSuite.
    Retry {
        after: Option<Duration>,
        why: String,
        maybe_sent: bool,
    },
}

impl TuxSuite {
    /// The account, resolving it on first use.
    fn account(&self) -> Result<&Settings, String> {
        self.account
            .get_or_init(|| Settings::resolve(&self.env, self.timeout).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn settings(&self) -> &Settings {
        self.account().expect(
            "scheduling calls only reach a runner opened to schedule, which resolved its account",
        )
    }

    /// Sends a request, retrying where that cannot create a duplicate
    /// job, and returns TuxSuite's 2xx answer.
    fn send(
        &self,
        sub: &Submission,
        feedback: &dyn Feedback,
    ) -> Result<(Option<Value>, String), SubmitError> {
        let body = serde_json::to_vec(&sub.body).expect("JSON values always serialise");
        let mut maybe_created = false;
        for attempt in 1..=MAX_TRIES {
            match self.attempt(sub, &body, feedback) {
                Next::Done(result) => return result,
                Next::Retry {
                    after,
                    why,
                    maybe_sent,
                } => {
                    maybe_created |= maybe_sent;
                    if attempt == MAX_TRIES {
                        let message = format!("{why} (tried {MAX_TRIES} times)");
                        return Err(if maybe_created {
                            SubmitError::Uncertain {
                                message: format!("{message}; the build may have been created, check TuxSuite before scheduling again"),
                                response: None,
                            }
                        } else {
                            SubmitError::Unreachable {
                                message: format!("{message}; try again later"),
                            }
                        });
                    }
                    let pause = after.unwrap_or_else(|| self.backoff.delay(attempt - 1));
                    feedback.progress(&format!(
                        "{why}; retrying in {:.0}s (try {} of {MAX_TRIES})",
                        pause.as_secs_f64(),
                        attempt + 1
                    ));
                    std::thread::sleep(pause);
                }
            }
        }
        unreachable!("the last attempt always returns")
    }

    /// `POST …/{collection}/{uid}/cancel` with the client's `{}` body;
    /// `what` names the job or plan in messages.
    fn post_cancel(&self, collection: &str, what: &str, uid: &str) -> Result<(), FetchError> {
        let account = self.account().map_err(FetchError::Permanent)?;
        let url = format!("{}/{collection}/{uid}/cancel", account.project_url());
        let mut resp = self
            .agent
            .post(&url)
            .header("Authorization", &account.token)
            .header("Content-Type", "application/json")
            .send(&b"{}"[..])
            .map_err(|e| {
                let why = format!(
                    "TuxSuite at {}: {}",
                    account.api_url,
                    http::describe(&e, self.timeout)
                );
                FetchError::transport(&e, why)
            })?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        match status {
            200..=299 => Ok(()),
            404 => Err(FetchError::Permanent(format!(
                "TuxSuite has no {what} {uid} in {}/{} (404)",
                account.group, account.project
            ))),
            _ => Err(FetchError::Permanent(format!(
                "TuxSuite answered {status} to the cancel: {}",
                error_message(serde_json::from_str::<Value>(&text).ok().as_ref(), &text)
            ))),
        }
    }

    /// A request of a plan, sent like any other.
    fn plan_request(url: String, body: Value, idempotent: bool) -> Submission {
        Submission {
            method: "POST",
            url,
            headers: vec![],
            body,
            idempotent,
            notes: vec![],
            shown: None,
            device: None,
        }
    }

    /// Where a job's files are (`download_url`, ending in `/`), and whether
    /// they are public; `what` names what was wanted, for the error.
    fn storage(&self, job: &Job, what: &str) -> Result<(String, bool), FetchError> {
        // The stored status may predate the download URL: ask once more.
        let status = match job
            .status
            .as_ref()
            .filter(|s| s.get("download_url").is_some())
        {
            Some(s) => s.clone(),
            None => match self.poll(job)? {
                Polled::Finished(cb) => cb.status,
                Polled::Running { status, .. } => status,
            },
        };
        let Some(base) = results::download_base(&status) else {
            return Err(FetchError::Permanent(format!(
                "job {} has no {what} yet (TuxSuite says it is {})",
                job.id,
                status["state"].as_str().unwrap_or("not started")
            )));
        };
        Ok((base, status["is_public"].as_bool().unwrap_or(true)))
    }

    /// What TuxSuite says of a build or test now.
    fn status(&self, build: bool, uid: &str) -> Result<Value, FetchError> {
        let what = collection(build);
        self.get_json(&format!("{what}/{uid}"), &[], &format!("{what} {uid}"))
    }

    /// `GET {project}/{path}?{query}` with the token; `what` names the
    /// object in messages.
    fn get_json(
        &self,
        path: &str,
        query: &[(String, String)],
        what: &str,
    ) -> Result<Value, FetchError> {
        let account = self.account().map_err(FetchError::Permanent)?;
        let url = format!("{}/{path}", account.project_url());
        let mut resp = self
            .agent
            .get(&url)
            .query_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .header("Authorization", &account.token)
            .call()
            .map_err(|e| {
                let why = format!("TuxSuite: {}", http::describe(&e, self.timeout));
                FetchError::transport(&e, why)
            })?;
        let status = resp.status().as_u16();
        let retry_after = http::retry_after(resp.headers());
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        match status {
            200..=299 => {}
            404 => {
                return Err(FetchError::Permanent(format!(
                    "TuxSuite does not know {what} (404)"
                )))
            }
            403 => {
                return Err(FetchError::Permanent(format!(
                    "TuxSuite refused the token (403); check the token from {}",
                    account.token_source
                )))
            }
            _ => {
                return Err(FetchError::from_status(
                    status,
                    retry_after,
                    format!(
                        "TuxSuite answered {status}: {}",
                        error_message(serde_json::from_str(&text).ok().as_ref(), &text)
                    ),
                ))
            }
        }
        serde_json::from_str(&text)
            .map_err(|_| FetchError::Transient(format!("TuxSuite answered {url} with non-JSON")))
    }

    fn test_body(t: &TestSpec, callback: Option<&CallbackTarget>) -> Result<Value, PrepareError> {
        let o = &t.options;
        let extras = options::TestExtras::of(&o.runner)?;
        let mut body = Map::new();
        body.insert("device".into(), json!(t.device));
        // The official client always sends these, null when unset; kbridge
        // sends what the service has only ever been seen to accept.
        body.insert("kernel".into(), json!(t.kernel));
        if let Some(m) = &t.modules {
            body.insert("modules".into(), json!(m));
        }
        for (k, v) in [("rootfs", &o.rootfs), ("dtb", &o.dtb), ("bios", &o.bios)] {
            body.insert(k.into(), json!(v));
        }
        for k in FIRMWARE {
            let url = extras
                .firmware
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, u)| u);
            body.insert(k.into(), json!(url));
        }
        body.insert(
            "lab".into(),
            json!(extras.lab.as_deref().unwrap_or(DEFAULT_LAB)),
        );
        body.insert(
            "lava_test_plans_project".into(),
            json!(extras.lava_test_plans_project),
        );
        if let Some(b) = &extras.tuxbuild {
            body.insert("tuxbuild".into(), json!(b));
        }
        body.insert(
            "host".into(),
            json!(extras.host.as_deref().unwrap_or(DEFAULT_HOST)),
        );
        // TuxSuite starts the test on the build's own kernel and modules
        // once the build succeeds.
        if let Some(test) = &t.waits_for_test {
            body.insert("waiting_for".into(), json!(format!("TEST#{test}")));
        } else if let Some(build) = &t.waits_for {
            body.insert("waiting_for".into(), json!(format!("BUILD#{build}")));
        }
        // Boot always runs on TuxSuite and must not be named; a boot-only
        // job sends no test list at all.
        let tests: Vec<&String> = t.tests.iter().filter(|n| *n != "boot").collect();
        if !tests.is_empty() {
            body.insert("tests".into(), json!(tests));
        }
        // Every KEY=VALUE is kept (the official client keeps only the first
        // of each flag).
        let params: Map<String, Value> = t
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        body.insert("parameters".into(), Value::Object(params));
        if !o.timeouts.is_empty() {
            let timeouts: Map<String, Value> = o
                .timeouts
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            body.insert("timeouts".into(), Value::Object(timeouts));
        }
        if let Some(a) = &o.boot_args {
            body.insert("boot_args".into(), json!(a));
        }
        if !o.overlays.is_empty() {
            let overlays: Vec<Value> = o.overlays.iter().map(|(u, p)| json!([u, p])).collect();
            body.insert("overlays".into(), json!(overlays));
        }
        if !o.commands.is_empty() {
            body.insert("commands".into(), json!(o.commands));
        }
        if let Some(q) = &extras.qemu_image {
            body.insert("qemu_image".into(), json!(q));
        }
        if let Some(n) = &o.test_name {
            body.insert("test_name".into(), json!(n));
        }
        if extras.shared {
            body.insert("shared".into(), json!(true));
        }
        if !o.notify_emails.is_empty() {
            body.insert("notify_emails".into(), json!(o.notify_emails));
        }
        body.insert("is_public".into(), json!(!t.private));
        add_callback(&mut body, callback);
        Ok(Value::Object(body))
    }

    fn build_body(b: &BuildSpec, callback: Option<&CallbackTarget>) -> Value {
        let mut entry = Map::new();
        entry.insert("git_repo".into(), json!(b.tree));
        match (&b.branch, &b.sha) {
            (_, Some(sha)) => entry.insert("git_sha".into(), json!(sha)),
            (Some(branch), None) => entry.insert("git_ref".into(), json!(branch)),
            (None, None) => None,
        };
        entry.insert("target_arch".into(), json!(b.arch));
        entry.insert("toolchain".into(), json!(b.toolchain));
        entry.insert("kconfig".into(), json!(b.kconfig));
        entry.insert(
            "client_token".into(),
            json!(uuid::Uuid::new_v4().to_string()),
        );
        let o = &b.options;
        let pairs = |kv: &[(String, String)]| -> Value {
            Value::Object(kv.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
        };
        entry.insert("environment".into(), pairs(&o.environment));
        entry.insert("make_variables".into(), pairs(&o.make_variables));
        // No target named: the official client's six, not the server's.
        let targets: Vec<&str> = if b.targets.is_empty() {
            DEFAULT_TARGETS.to_vec()
        } else {
            b.targets.iter().map(String::as_str).collect()
        };
        entry.insert("targets".into(), json!(targets));
        entry.insert("is_public".into(), json!(!b.private));
        if let Some(n) = &o.build_name {
            entry.insert("build_name".into(), json!(n));
        }
        if let Some(k) = &o.kernel_image {
            entry.insert("kernel_image".into(), json!(k));
        }
        if let Some(sha) = &o.image_sha {
            entry.insert("image_sha".into(), json!(sha));
        }
        if o.no_cache {
            entry.insert("no_cache".into(), json!(true));
        }
        if !o.notify_emails.is_empty() {
            entry.insert("notify_emails".into(), json!(o.notify_emails));
        }
        // Packed as the official client packs it: the key is the sha256
        // of the base64 text, then the name.
        let mut patches = Map::new();
        match &o.patch_series {
            Some(crate::model::PatchSeries::File { name, base64 }) => {
                let key = format!("{}/{name}", crate::model::sha256_hex(base64.as_bytes()));
                entry.insert("kernel_patch_file".into(), json!(key));
                patches.insert(key, json!(base64));
            }
            Some(crate::model::PatchSeries::Url(url)) => {
                entry.insert("kernel_patch_file".into(), json!(url));
                patches.insert(url.clone(), json!(""));
            }
            // Only a stored job has this form, and stored jobs are never
            // sent again.
            Some(crate::model::PatchSeries::Recorded { .. }) | None => {}
        }
        add_callback(&mut entry, callback);
        json!({"builds": [entry], "patches": patches})
    }

    /// One attempt, and what to do next.
    fn attempt(&self, sub: &Submission, body: &[u8], feedback: &dyn Feedback) -> Next {
        let sent = self
            .agent
            .post(&sub.url)
            .header("Authorization", &self.settings().token)
            .header("Content-Type", "application/json")
            .send(body);
        let mut resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                let why = format!(
                    "TuxSuite at {}: {}",
                    self.settings().api_url,
                    http::describe(&e, self.timeout)
                );
                if http::plain_http(&e) {
                    return Next::Done(Err(SubmitError::Unreachable { message: why }));
                }
                return match http::reach(&e) {
                    Reach::NotReached => Next::Retry {
                        after: None,
                        why,
                        maybe_sent: false,
                    },
                    Reach::Maybe if sub.idempotent => Next::Retry {
                        after: None,
                        why,
                        maybe_sent: true,
                    },
                    Reach::Maybe => Next::Done(Err(SubmitError::Uncertain {
                        message: format!("{why}; the request may have reached TuxSuite, so it was not sent again"),
                        response: None,
                    })),
                };
            }
        };
        let status = resp.status().as_u16();
        for (name, value) in resp.headers() {
            if name.as_str().starts_with("x-tuxsuite-warning") {
                feedback.warning(&format!("TuxSuite: {}", value.to_str().unwrap_or("?")));
            }
        }
        let retry_after = http::retry_after(resp.headers());
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let answer: Option<Value> = serde_json::from_str(&text).ok();

        if (200..300).contains(&status) {
            return Next::Done(Ok((answer, text)));
        }
        let message = error_message(answer.as_ref(), &text);
        let why = format!("TuxSuite answered {status}: {message}");
        match (status, retry_after) {
            (429 | 503, Some(after)) if after <= http::MAX_RETRY_AFTER => Next::Retry {
                after: Some(after),
                why,
                maybe_sent: false,
            },
            (429 | 503, Some(after)) => Next::Done(Err(SubmitError::Unreachable {
                message: format!(
                    "{why}; it asks to wait {}s, try again later",
                    after.as_secs()
                ),
            })),
            (503, None) => Next::Done(Err(SubmitError::Unreachable {
                message: format!("{why}; the service is down, try again later"),
            })),
            (413 | 429 | 500 | 502 | 504, _) if sub.idempotent => Next::Retry {
                after: None,
                why,
                maybe_sent: status >= 500,
            },
            (404, _) => {
                let s = self.settings();
                Next::Done(Err(SubmitError::Refused {
                    message: format!(
                        "TuxSuite answered 404 for {}: {message}; check the API URL {} (from {}), group '{}' (from {}) and project '{}' (from {})",
                        sub.url,
                        s.api_url,
                        s.sources.api_url,
                        s.group,
                        s.sources.group,
                        s.project,
                        s.sources.project
                    ),
                    response: answer,
                }))
            }
            (403, _) => Next::Done(Err(SubmitError::Refused {
                message: format!(
                    "TuxSuite refused the token (403): {message}; check the token from {}",
                    self.settings().token_source
                ),
                response: answer,
            })),
            (400..=499, _) => Next::Done(Err(SubmitError::Refused {
                message: why,
                response: answer,
            })),
            _ => Next::Done(Err(SubmitError::Uncertain {
                message: format!(
                    "{why}; the job may have been created, check TuxSuite before scheduling again"
                ),
                response: answer,
            })),
        }
    }

    /// Builds the one request that submits jobs of one kind as part of
    /// plan `plan_uid`, and each job's own entry in it (what its record
    /// keeps). Pure: nothing is sent.
    fn prepare_jobs(
        &self,
        plan_uid: &str,
        jobs: &[(JobSpec, Option<CallbackTarget>)],
    ) -> Result<crate::runner::JobBatch, PrepareError> {
        let account = self.account().map_err(PrepareError::Config)?;
        let builds = matches!(jobs.first(), Some((JobSpec::Build(_), _)));
        let url = format!("{}/{}", account.project_url(), collection(builds));
        let mut entries = Vec::new();
        let mut patches = Map::new();
        for (spec, cb) in jobs {
            let mut entry = match spec {
                JobSpec::Build(b) if builds => {
                    let mut one = TuxSuite::build_body(b, cb.as_ref());
                    if let Some(p) = one["patches"].as_object() {
                        patches.extend(p.clone());
                    }
                    let mut entry = one["builds"][0].take();
                    // A plan's builds have no default targets, as in the client.
                    if b.targets.is_empty() {
                        entry["targets"] = json!([]);
                    }
                    entry
                }
                JobSpec::Test(t) | JobSpec::Boot(t) if !builds => {
                    let mut entry = TuxSuite::test_body(t, cb.as_ref())?;
                    // The client's plan tests carry a host only when the
                    // plan names one.
                    if !t.options.runner.contains_key("host") {
                        if let Some(o) = entry.as_object_mut() {
                            o.remove("host");
                        }
                    }
                    entry
                }
                _ => {
                    return Err(PrepareError::Unsupported(
                        "a batch of plan jobs holds one kind of job".into(),
                    ))
                }
            };
            entry["plan"] = json!(plan_uid);
            entries.push(entry);
        }
        let body = if builds {
            json!({"builds": entries.clone(), "patches": patches})
        } else {
            Value::Array(entries.clone())
        };
        Ok(crate::runner::JobBatch {
            submission: TuxSuite::plan_request(url, body, builds),
            entries,
        })
    }

    /// Sends a batch [`TuxSuite::prepare_jobs`] built, returning the
    /// runner's acceptance of each job, in order.
    fn submit_jobs(
        &self,
        batch: &crate::runner::JobBatch,
        feedback: &dyn Feedback,
    ) -> Result<Vec<Accepted>, SubmitError> {
        let jobs = &batch.entries;
        let plan_uid = jobs.first().and_then(|e| e["plan"].as_str()).unwrap_or("-");
        let (answer, text) = self.send(&batch.submission, feedback)?;
        let answer = answer.unwrap_or(Value::String(text));
        let items = answer.as_array().cloned().unwrap_or_default();
        if items.len() != jobs.len() {
            return Err(SubmitError::Uncertain {
                message: format!(
                    "TuxSuite answered {} job(s) for {} sent; check the plan {plan_uid} on TuxSuite",
                    items.len(),
                    jobs.len()
                ),
                response: Some(answer),
            });
        }
        items
            .into_iter()
            .map(|item| match item["uid"].as_str() {
                Some(uid) => Ok(Accepted {
                    uid: uid.to_string(),
                    response: item.clone(),
                }),
                None => Err(SubmitError::Uncertain {
                    message: "TuxSuite accepted the jobs but one has no uid".into(),
                    response: Some(item.clone()),
                }),
            })
            .collect()
    }
}

impl Runner for TuxSuite {
    fn prepare(
        &self,
        spec: &JobSpec,
        callback: Option<&CallbackTarget>,
        _job_id: Option<i64>,
    ) -> Result<Submission, PrepareError> {
        if let JobSpec::Test(t) | JobSpec::Boot(t) = spec {
            if t.definition.is_some() {
                return Err(PrepareError::Unsupported(
                    "TuxSuite takes no --job-definition file; give --kernel (or --after) and --tests".into(),
                ));
            }
            if t.kernel.is_none() && t.waits_for.is_none() {
                return Err(PrepareError::Unsupported(
                    "TuxSuite needs the kernel to test: give --kernel URL or --after BUILD".into(),
                ));
            }
        }
        let account = self.account().map_err(PrepareError::Config)?;
        let (path, body, idempotent) = match spec {
            JobSpec::Build(b) => (collection(true), TuxSuite::build_body(b, callback), true),
            JobSpec::Test(t) | JobSpec::Boot(t) => {
                (collection(false), TuxSuite::test_body(t, callback)?, false)
            }
        };
        Ok(Submission {
            method: "POST",
            url: format!("{}/{path}", account.project_url()),
            headers: vec![
                ("Authorization".into(), "<redacted>".into()),
                ("Content-Type".into(), "application/json".into()),
                ("User-Agent".into(), http::USER_AGENT.into()),
            ],
            body,
            idempotent,
            notes: self.dry_run_note.iter().cloned().collect(),
            shown: None,
            device: None,
        })
    }

    fn submit(&self, sub: &Submission, feedback: &dyn Feedback) -> Result<Accepted, SubmitError> {
        let (answer, text) = self.send(sub, feedback)?;
        accepted(answer, &text)
    }

    fn verify_callback(
        &self,
        headers: &::http::HeaderMap,
        body: &[u8],
    ) -> Result<&'static str, VerifyError> {
        let header = headers
            .get(signature::SIGNATURE_HEADER)
            .map(|v| v.as_bytes());
        match signature::verify(&self.keys, header, body) {
            Ok(signature::Signed::Raw) => Ok(callback::RAW),
            Ok(signature::Signed::Inner) => Ok(callback::INNER),
            Err(signature::VerifyError::Missing) => {
                Err(VerifyError::Missing(signature::SIGNATURE_HEADER))
            }
            Err(e @ signature::VerifyError::Encoding) => Err(VerifyError::Malformed(e.to_string())),
            Err(e @ signature::VerifyError::Mismatch) => Err(VerifyError::Mismatch(format!(
                "{e}; check --tuxsuite-public-key (`tuxsuite keys get` prints TuxSuite's)"
            ))),
        }
    }

    fn doctor(&self, listening: bool) -> Vec<Check> {
        let mut checks = Vec::new();
        let account = match self.account() {
            Ok(a) => {
                checks.push(Check::ok(
                    "tuxsuite account",
                    format!(
                        "token from {}; group {}, project {}; API {}",
                        a.token_source, a.group, a.project, a.api_url
                    ),
                ));
                a
            }
            Err(why) => {
                checks.push(Check::fail("tuxsuite account", why));
                return checks;
            }
        };
        // The first page of the project's tests: a request only the token
        // opens (the group's keys may be served to anyone, so asking for
        // them proves nothing about the token).
        let url = format!("{}/tests", account.project_url());
        match self
            .agent
            .get(&url)
            .query("limit", "1")
            .header("Authorization", &account.token)
            .call()
        {
            Err(e) => checks.push(Check::fail(
                "tuxsuite token",
                format!(
                    "TuxSuite could not be asked ({}); check the network and TUXAPI_URL",
                    http::describe(&e, self.timeout)
                ),
            )),
            Ok(resp) => match resp.status().as_u16() {
                200..=299 => checks.push(Check::ok(
                    "tuxsuite token",
                    format!("accepted by TuxSuite for {}/{}", account.group, account.project),
                )),
                status @ (401 | 403) => checks.push(Check::fail(
                    "tuxsuite token",
                    format!(
                        "refused by TuxSuite ({status}); get a new one and set it in {}",
                        account.token_source
                    ),
                )),
                404 => checks.push(Check::fail(
                    "tuxsuite token",
                    format!(
                        "TuxSuite has no project {}/{} (404); check TUXSUITE_GROUP and TUXSUITE_PROJECT",
                        account.group, account.project
                    ),
                )),
                status => checks.push(Check::note(
                    "tuxsuite token",
                    format!("TuxSuite answered {status} to {url}; the token could not be checked"),
                )),
            },
        }
        // The key TuxSuite signs this group's callbacks with.
        let published = self
            .agent
            .get(&format!("{}/keys", account.project_url()))
            .header("Authorization", &account.token)
            .call()
            .ok()
            .filter(|r| r.status().is_success())
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|v| v["ssh"]["pub"].as_str().map(String::from));
        if !listening {
            return checks;
        }
        if self.keys.is_empty() {
            checks.push(Check::fail(
                "tuxsuite public key",
                "none configured, so callbacks cannot be verified: `tuxsuite keys get` prints it; pass it with --tuxsuite-public-key FILE or public_keys under [tuxsuite]",
            ));
            return checks;
        }
        let n = self.keys.len();
        match published.map(|line| PublicKey::from_openssh(&line)) {
            Some(Ok(current)) if self.keys.iter().any(|k| k.same_as(&current)) => {
                checks.push(Check::ok(
                    "tuxsuite public key",
                    format!("{n} key(s) configured; one is the key TuxSuite publishes for group {}", account.group),
                ))
            }
            Some(Ok(_)) => checks.push(Check::fail(
                "tuxsuite public key",
                format!(
                    "none of the {n} configured key(s) is the key TuxSuite publishes for group {}: callbacks would be refused; update it from `tuxsuite keys get`",
                    account.group
                ),
            )),
            _ => checks.push(Check::ok(
                "tuxsuite public key",
                format!("{n} key(s) configured and valid (TuxSuite's published key could not be read to compare)"),
            )),
        }
        checks
    }

    fn precheck(&self, headers: &::http::HeaderMap) -> Result<(), VerifyError> {
        let header = headers
            .get(signature::SIGNATURE_HEADER)
            .map(|v| v.as_bytes())
            .filter(|h| !h.trim_ascii().is_empty())
            .ok_or(VerifyError::Missing(signature::SIGNATURE_HEADER))?;
        signature::decode(header)
            .map(|_| ())
            .ok_or_else(|| VerifyError::Malformed(signature::VerifyError::Encoding.to_string()))
    }

    fn parse_callback(
        &self,
        kind: JobKind,
        body: &[u8],
        verified_as: &str,
    ) -> Result<Callback, ParseError> {
        callback::parse(kind, body, verified_as)
    }

    fn poll(&self, job: &Job) -> Result<Polled, FetchError> {
        let uid = job.uid.as_deref().ok_or_else(|| {
            FetchError::Permanent("the job has no TuxSuite uid to look up".into())
        })?;
        let status = self.status(job.kind == JobKind::Build, uid)?;
        Ok(polled(uid, status))
    }

    fn fetch_results(&self, job: &Job, callback: &Callback) -> Result<JobResults, FetchError> {
        self.artifacts.results(job, callback)
    }

    fn protocol(&self) -> Protocol {
        Protocol {
            auth: CallbackAuth::Signed,
            auth_header: signature::SIGNATURE_HEADER,
            kept_headers: &[signature::SIGNATURE_HEADER, "content-type", "user-agent"],
            // TuxSuite's storage keeps artefacts about 30 days.
            results_lifetime: Some(Duration::from_secs(30 * 86400)),
        }
    }

    fn plans(&self) -> Option<&dyn Plans> {
        Some(self)
    }

    fn cancel(&self) -> Option<&dyn Cancel> {
        Some(self)
    }

    fn logs(&self) -> Option<&dyn Logs> {
        Some(self)
    }

    fn artefacts(&self) -> Option<&dyn Artefacts> {
        Some(self)
    }

    fn track(&self) -> Option<&dyn Track> {
        Some(self)
    }

    fn chaining(&self) -> Option<&dyn Chaining> {
        Some(self)
    }
}

impl Plans for TuxSuite {
    fn poll_plan(&self, plan: &str, jobs: &[&Job]) -> Option<Vec<Result<Polled, FetchError>>> {
        // The plan's pages, as the client reads them: each list has its
        // own `next`, and only the lists with one are asked on.
        let mut statuses: std::collections::HashMap<String, Value> = Default::default();
        let mut tokens: [(&str, Option<String>); 3] =
            [("builds", None), ("tests", None), ("oebuilds", None)];
        for page in 0..MAX_PLAN_PAGES {
            let query: Vec<(String, String)> = tokens
                .iter()
                .filter_map(|(kind, t)| Some((format!("start_{kind}"), t.clone()?)))
                .collect();
            if page > 0 && query.is_empty() {
                break;
            }
            let answer =
                match self.get_json(&format!("plans/{plan}"), &query, &format!("plan {plan}")) {
                    Ok(a) => a,
                    // The plan cannot be read (gone, refused): each job is
                    // asked on its own.
                    Err(FetchError::Permanent(_)) => return None,
                    // The same word for every job: asking each of them now
                    // would only load the service more.
                    Err(e) => return Some(jobs.iter().map(|_| Err(e.clone())).collect()),
                };
            let before = tokens.clone();
            for (kind, token) in tokens.iter_mut() {
                if page > 0 && token.is_none() {
                    continue;
                }
                let list = &answer[*kind];
                for status in list["results"].as_array().into_iter().flatten() {
                    if let Some(uid) = status["uid"].as_str() {
                        statuses.insert(uid.to_string(), status.clone());
                    }
                }
                *token = match &list["next"] {
                    Value::String(t) if !t.is_empty() => Some(t.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
            }
            // A service whose `next` does not move would be asked forever.
            if tokens == before {
                break;
            }
        }
        Some(
            jobs.iter()
                .map(|job| {
                    let uid = job.uid.as_deref().unwrap_or_default();
                    match statuses.remove(uid) {
                        Some(status) => Ok(polled(uid, status)),
                        // Not in the plan's answer: asked on its own.
                        None => self.poll(job),
                    }
                })
                .collect(),
        )
    }

    fn read_plan(
        &self,
        text: &str,
        defaults: &crate::runner::PlanDefaults,
    ) -> Result<crate::runner::Plan, PrepareError> {
        plan::read(text, defaults).map_err(PrepareError::Unsupported)
    }

    fn submit_plan(
        &self,
        plan: &crate::runner::Plan,
        callback: Option<&CallbackTarget>,
        feedback: &dyn Feedback,
    ) -> Result<String, SubmitError> {
        let account = self.account().map_err(|message| SubmitError::Refused {
            message,
            response: None,
        })?;
        // The client's eight keys, nulls included.
        let body = json!({
            "name": plan.name, "description": plan.description, "is_public": !plan.private,
            "plan_callback": callback.map(|c| &c.url),
            "plan_callback_headers": callback.map(|c| json!({ CALLBACK_TOKEN_HEADER: c.token })),
            "count": plan.count(), "plan_file": plan.text,
            "notify_emails": (!plan.notify_emails.is_empty()).then_some(&plan.notify_emails)
        });
        let url = format!("{}/plans", account.project_url());
        let (answer, text) = self.send(&TuxSuite::plan_request(url, body, false), feedback)?;
        let answer = answer.unwrap_or(Value::String(text));
        answer["uid"]
            .as_str()
            .filter(|u| crate::model::check_uid(u).is_ok())
            .map(str::to_string)
            .ok_or_else(|| SubmitError::Uncertain {
                message: format!("TuxSuite created the plan but its answer has no uid: {answer}"),
                response: Some(answer.clone()),
            })
    }

    fn stage(
        &self,
        plan: &crate::runner::Plan,
        uid: &str,
        sink: &mut dyn PlanSink,
    ) -> Result<(), StageError> {
        plan::stage(self, plan, uid, sink)
    }

    fn parse_plan_callback(
        &self,
        body: &[u8],
        verified_as: &str,
    ) -> Result<crate::runner::PlanReport, ParseError> {
        callback::parse_plan(body, verified_as)
    }

    fn cancel_plan(&self, uid: &str) -> Result<(), FetchError> {
        self.post_cancel("plans", "plan", uid)
    }
}

impl Cancel for TuxSuite {
    fn cancel(&self, job: &Job) -> Result<(), FetchError> {
        let uid = job.uid.as_deref().ok_or_else(|| {
            FetchError::Permanent(
                "the job has no TuxSuite uid (its submission did not go through)".into(),
            )
        })?;
        self.post_cancel(
            collection(job.kind == JobKind::Build),
            job.kind.as_str(),
            uid,
        )
    }
}

impl Logs for TuxSuite {
    fn log_source(&self, job: &Job) -> Result<String, FetchError> {
        let (base, _) = self.storage(job, "logs")?;
        Ok(format!("{base}{}", log_file(job.kind)))
    }

    fn logs(&self, job: &Job, raw: bool, out: &mut dyn std::io::Write) -> Result<(), FetchError> {
        let (base, public) = self.storage(job, "logs")?;
        let file = log_file(job.kind);
        let console = !raw && job.kind != JobKind::Build;
        if self
            .artifacts
            .stream(&format!("{base}{file}"), public, console, out)?
            .is_some()
        {
            Ok(())
        } else {
            Err(FetchError::Permanent(format!(
                "TuxSuite has no {file} for job {} (yet)",
                job.id
            )))
        }
    }
}

impl Artefacts for TuxSuite {
    fn list(&self, job: &Job) -> Result<crate::runner::Listing, FetchError> {
        let (base, public) = self.storage(job, "artefacts")?;
        self.artifacts.listing(&base, public)
    }

    fn download(
        &self,
        job: &Job,
        file: &crate::runner::Artefact,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, FetchError> {
        if let Some(why) = &file.refused {
            return Err(FetchError::Permanent(why.clone()));
        }
        let (_, public) = self.storage(job, "artefacts")?;
        self.artifacts
            .stream(&file.url, public, false, out)?
            .ok_or_else(|| FetchError::Permanent("the storage no longer has it (404)".into()))
    }
}

impl Track for TuxSuite {
    fn track(&self, uid: &str, build: Option<bool>) -> Result<crate::runner::Tracked, FetchError> {
        let (status, is_build) = match build {
            Some(b) => (self.status(b, uid)?, b),
            // Tests are the more common: ask for one first.
            None => match self.status(false, uid) {
                Ok(s) => (s, false),
                Err(FetchError::Permanent(_)) => (self.status(true, uid)?, true),
                Err(e) => return Err(e),
            },
        };
        let text = |k: &str| status[k].as_str().map(str::to_string);
        let public = status["is_public"].as_bool().unwrap_or(true);
        if is_build {
            let spec = JobSpec::Build(BuildSpec {
                tree: text("git_repo").unwrap_or_default(),
                branch: text("git_ref"),
                sha: text("git_sha"),
                arch: text("target_arch").unwrap_or_default(),
                toolchain: text("toolchain").unwrap_or_default(),
                kconfig: plan::strings(&status["kconfig"]),
                targets: vec![],
                private: !public,
                options: Default::default(),
            });
            return Ok(crate::runner::Tracked {
                spec,
                build_uid: None,
                status,
            });
        }
        let tests: Vec<String> = plan::strings(&status["tests"])
            .into_iter()
            .filter(|n| n != "boot")
            .collect();
        // The build it ran on: the one it waited for, or the one whose
        // storage its kernel comes from.
        let build_uid = text("waiting_for")
            .and_then(|w| w.strip_prefix("BUILD#").map(String::from))
            .or_else(|| {
                let kernel = text("kernel")?;
                let rest = kernel.split("/builds/").nth(1)?;
                Some(rest.split('/').next()?.to_string()).filter(|u| !u.is_empty())
            });
        let spec = TestSpec {
            device: text("device").unwrap_or_default(),
            definition: None,
            kernel: text("kernel"),
            modules: text("modules"),
            build_id: String::new(),
            tests,
            collection: None,
            parameters: vec![],
            private: !public,
            waits_for: None,
            waits_for_test: None,
            options: Default::default(),
        };
        let spec = if spec.tests.is_empty() {
            JobSpec::Boot(spec)
        } else {
            JobSpec::Test(spec)
        };
        Ok(crate::runner::Tracked {
            spec,
            build_uid,
            status,
        })
    }
}

impl Chaining for TuxSuite {
    fn built_kernel(&self, build: &Job) -> Option<crate::runner::BuiltKernel> {
        let s = build.status.as_ref()?;
        let base = results::download_base(s)?;
        let image = s["kernel_image_name"].as_str().filter(|i| !i.is_empty())?;
        // `modules` is `false` or a file name.
        let modules = s["modules"]
            .as_str()
            .filter(|m| !m.is_empty())
            .map(|m| format!("{base}{m}"));
        Some(crate::runner::BuiltKernel {
            kernel: format!("{base}{image}"),
            modules,
        })
    }

    fn can_wait_for(&self, build: &Job) -> bool {
        build.runner == INFO.code && build.kind == JobKind::Build && build.uid.is_some()
    }
}

/// The artefact that holds a job's log.
fn log_file(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Build => "build.log",
        _ => "lava-logs.yaml",
    }
}

/// Where TuxSuite keeps builds, and tests and boots, under a project.
fn collection(build: bool) -> &'static str {
    if build {
        "builds"
    } else {
        "tests"
    }
}

fn add_callback(body: &mut Map<String, Value>, callback: Option<&CallbackTarget>) {
    if let Some(cb) = callback {
        body.insert("callback".into(), json!(cb.url));
        body.insert(
            "callback_headers".into(),
            json!({ CALLBACK_TOKEN_HEADER: cb.token }),
        );
    }
}

/// Where a job stands from its status object.
fn polled(uid: &str, status: Value) -> Polled {
    let state = status["state"].as_str().unwrap_or("unknown").to_string();
    if state != "finished" {
        let queued = matches!(state.as_str(), "waiting" | "queued" | "provisioning");
        return Polled::Running {
            state,
            queued,
            status,
        };
    }
    Polled::Finished(Callback {
        uid: Some(uid.to_string()),
        subject: None,
        status,
    })
}

/// The most pages of one plan read in one poll: a service whose `next`
/// never ends cannot keep kbridge asking.
const MAX_PLAN_PAGES: usize = 100;

/// Takes the uid from a 2xx answer: a test object, or an array of builds.
fn accepted(answer: Option<Value>, text: &str) -> Result<Accepted, SubmitError> {
    // A build is answered with a one-element array: the element is the
    // answer, so `--json` and the store always hold an object.
    let answer = match answer {
        Some(Value::Array(mut items)) if items.len() == 1 => Some(items.remove(0)),
        other => other,
    };
    let uid = answer.as_ref().and_then(|v| {
        v["uid"]
            .as_str()
            .filter(|u| !u.is_empty())
            .map(str::to_string)
    });
    match (uid, answer) {
        (Some(uid), Some(response)) => Ok(Accepted { uid, response }),
        (_, answer) => Err(SubmitError::Uncertain {
            message: format!(
                "TuxSuite accepted the request but its answer has no uid: {}; check TuxSuite before scheduling again",
                http::one_line(text)
            ),
            response: answer,
        }),
    }
}

/// The message TuxSuite gives for a refusal: `error`, else
/// `status_message`, else the body itself.
fn error_message(answer: Option<&Value>, text: &str) -> String {
    let field = |name: &str| {
        answer
            .and_then(|v| v.get(name))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .filter(|s| !s.is_empty())
    };
    field("error")
        .or_else(|| field("status_message"))
        .map(|s| http::one_line(&s))
        .unwrap_or_else(|| http::one_line(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_in_every_form_tuxsuite_keys_get_writes() {
        let (_, line) = signature::tests::keypair();
        let (_, other) = signature::tests::keypair();
        let one = |text: &str| keys_in(text).map(|k| k.len());
        assert_eq!(one(&format!("ssh public key:\n\n{line}\n")), Ok(1));
        // Its whole output, PAT and variable sections included.
        let full = format!(
            "ssh public key:\n\n{line}\n\npat keys:\n\nS.no       domain                    username                  token     \n\n1          gitlab.com                alice                     ****      \n\nvariables keys:\n\nS.no       keyname                   type                      value     \n\n1          FOO                       variables:env             ****      \n\n"
        );
        assert_eq!(one(&full), Ok(1));
        assert_eq!(one(&format!("ssh public key: {line}\n")), Ok(1));
        assert_eq!(one(&format!("# rotation\n{line}\n{other}\n")), Ok(2));
        let json = serde_json::json!({"ssh": {"pub": line}}).to_string();
        assert_eq!(one(&json), Ok(1));
        // What cannot be used names its line.
        let (n, e) = keys_in(&format!("{line}\nhello there\n")).unwrap_err();
        assert_eq!(n, 2);
        assert!(e.contains("expected an OpenSSH public key line"), "{e}");
        assert!(e.contains("\"hello there\""), "{e}");
        assert_eq!(keys_in("ssh public key:\n").unwrap_err().0, 1);
        assert!(keys_in("{\"ssh\": {}}").unwrap_err().1.contains("ssh.pub"));
        let (n, _) = keys_in("ssh public key:\necdsa-sha2-nistp256 AAAAnotbase64\n").unwrap_err();
        assert_eq!(n, 2);
    }

    fn runner() -> TuxSuite {
        let account = OnceLock::new();
        let _ = account.set(Ok(Settings {
            token: "secret".into(),
            token_source: "TUXSUITE_TOKEN".into(),
            group: "g".into(),
            project: "p".into(),
            api_url: "https://tuxapi.example".into(),
            sources: settings::Sources::default(),
        }));
        TuxSuite {
            agent: http::agent(Duration::from_secs(1)),
            artifacts: results::Fetcher::new(
                Duration::from_secs(1),
                vec![],
                None,
                None,
                crate::runner::ArtifactCaps {
                    bytes: 1 << 20,
                    time: Duration::from_secs(5),
                    cases: 1000,
                },
            ),
            env: crate::config::Environment::default(),
            account,
            dry_run_note: None,
            keys: vec![],
            timeout: Duration::from_secs(1),
            backoff: Backoff::new(Duration::ZERO, Duration::ZERO),
        }
    }

    fn test_spec(tests: &[&str]) -> TestSpec {
        TestSpec {
            options: Default::default(),
            waits_for: None,
            waits_for_test: None,
            definition: None,
            device: "qemu-riscv64".into(),
            kernel: Some("https://example.org/Image".into()),
            modules: None,
            build_id: "maestro:1".into(),
            tests: tests.iter().map(|s| s.to_string()).collect(),
            collection: None,
            parameters: vec![("SKIPFILE".into(), "x".into())],
            private: false,
        }
    }

    #[test]
    fn boot_jobs_send_no_tests_and_boot_is_never_named() {
        let r = runner();
        let boot = r
            .prepare(&JobSpec::Boot(test_spec(&[])), None, None)
            .unwrap();
        assert!(boot.body.get("tests").is_none());
        assert!(boot.body.get("callback").is_none());
        assert_eq!(
            boot.url,
            "https://tuxapi.example/v1/groups/g/projects/p/tests"
        );
        assert!(!boot.idempotent);
        let t = r
            .prepare(
                &JobSpec::Test(test_spec(&["boot", "ltp-smoke"])),
                None,
                None,
            )
            .unwrap();
        assert_eq!(t.body["tests"], json!(["ltp-smoke"]));
        assert_eq!(t.body["parameters"], json!({"SKIPFILE": "x"}));
        assert!(!t.to_string().contains("secret"));
    }

    #[test]
    fn builds_carry_a_client_token_and_the_callback() {
        let spec = JobSpec::Build(BuildSpec {
            options: Default::default(),
            tree: "https://git.example/linux.git".into(),
            branch: None,
            sha: Some("abcdef0".into()),
            arch: "riscv".into(),
            toolchain: "gcc-13".into(),
            kconfig: vec!["defconfig".into(), "CONFIG_KASAN=y".into()],
            targets: vec![],
            private: true,
        });
        let cb = CallbackTarget {
            url: "https://ci.example/callback/tuxsuite/build".into(),
            token: "tok".into(),
        };
        let sub = runner().prepare(&spec, Some(&cb), None).unwrap();
        let entry = &sub.body["builds"][0];
        assert_eq!(entry["git_sha"], "abcdef0");
        assert!(entry.get("git_ref").is_none());
        assert_eq!(entry["kconfig"], json!(["defconfig", "CONFIG_KASAN=y"]));
        assert_eq!(entry["client_token"].as_str().unwrap().len(), 36);
        assert_eq!(entry["callback_headers"]["X-Kbridge-Token"], "tok");
        assert_eq!(sub.body["patches"], json!({}));
        assert!(sub.idempotent);
        assert_eq!(entry["is_public"], false);
    }

    #[test]
    fn answers_yield_uids() {
        let build = json!([{"uid": "2ZITcwA6wxeKxh9cZA5HBJ6FkSj"}]);
        assert_eq!(
            accepted(Some(build), "").unwrap().uid,
            "2ZITcwA6wxeKxh9cZA5HBJ6FkSj"
        );
        let test = json!({"uid": "2MBYa8FhoBHkRCX2BMMPusjuClf"});
        assert_eq!(
            accepted(Some(test), "").unwrap().uid,
            "2MBYa8FhoBHkRCX2BMMPusjuClf"
        );
        assert!(matches!(
            accepted(Some(json!({})), "{}"),
            Err(SubmitError::Uncertain { .. })
        ));
    }

    #[test]
    fn refusal_messages() {
        let a = json!({"error": "bad device", "status_message": "x"});
        assert_eq!(error_message(Some(&a), ""), "bad device");
        let a = json!({"status_message": "quota exceeded"});
        assert_eq!(error_message(Some(&a), ""), "quota exceeded");
        assert_eq!(
            error_message(None, "<html>oops</html>"),
            "<html>oops</html>"
        );
    }
}
