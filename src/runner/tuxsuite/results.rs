//! Reading a finished TuxSuite job: the callback's status object, plus the
//! artefacts under its `download_url` (`results.json` and the tail of
//! `logs.txt` for tests, the tail of `build.log` for failed builds).
//!
//! Artefacts are fetched only from allowed hosts, and redirects are
//! followed by hand so that each hop is checked too: a verified but odd
//! payload must not make kbridge fetch arbitrary URLs.

use std::collections::VecDeque;
use std::io::Read;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::http;
use crate::model::{
    excerpt, BuildResults, Callback, CaseResult, Job, JobKind, JobResults, OutputFile, Status,
    TestResults,
};
use crate::runner::{Artefact, ArtifactCaps as Caps, FetchError, Listing};

/// How much of a log's end is asked for with a Range request.
const TAIL_BYTES: u64 = 256 * 1024;
const MAX_REDIRECTS: usize = 5;
/// The most files one listing names, and folders it reads.
const MAX_LISTED: usize = 10_000;
const MAX_FOLDERS: usize = 200;

/// Where an artefact comes from: a scheme, a host and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

/// One entry of the artefact host allow-list: `HOST` or `HOST:PORT`.
/// Artefacts come from it over https; plain http is allowed only from this
/// machine (a local mirror or a test server), where nobody can tamper
/// with them on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    host: String,
    port: Option<u16>,
}

impl AllowedHost {
    /// Parses `HOST[:PORT]`; the error says what was wrong and, for a URL,
    /// the host it probably meant.
    pub fn parse(entry: &str) -> Result<AllowedHost, String> {
        let entry = entry.trim();
        if entry.contains("://") {
            let authority = url::Url::parse(entry)
                .ok()
                .and_then(|u| {
                    let host = u.host_str()?.to_string();
                    Some(match u.port() {
                        Some(port) => format!("{host}:{port}"),
                        None => host,
                    })
                })
                .unwrap_or_default();
            return Err(if authority.is_empty() {
                format!("'{entry}' is a URL, not a host; give HOST or HOST:PORT")
            } else {
                format!("'{entry}' is a URL, not a host; did you mean '{authority}'?")
            });
        }
        let bad = || {
            format!("'{entry}' is not a host; give HOST or HOST:PORT, such as storage.tuxsuite.com")
        };
        let uri: ::http::uri::Authority = entry.parse().map_err(|_| bad())?;
        let port = match &entry[uri.host().len()..] {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or_else(bad)?,
            ),
        };
        if entry.contains(['/', '@']) || uri.host().is_empty() {
            return Err(bad());
        }
        Ok(AllowedHost {
            host: uri.host().trim_matches(['[', ']']).to_ascii_lowercase(),
            port,
        })
    }

    /// Whether artefacts may be fetched from `o`.
    pub fn admits(&self, o: &Origin) -> bool {
        self.host == o.host
            && self.port.unwrap_or(o.default_port()) == o.port
            && (o.scheme == "https" || loopback(&o.host))
    }
}

impl std::fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(p) if self.host.contains(':') => write!(f, "[{}]:{p}", self.host),
            Some(p) => write!(f, "{}:{p}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

fn loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Origin {
    /// The origin of a URL; `None` unless it is http or https.
    pub fn of(uri: &::http::Uri) -> Option<Origin> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        Some(Origin {
            host: uri.host()?.trim_matches(['[', ']']).to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(default),
            scheme,
        })
    }

    /// The port its scheme implies.
    fn default_port(&self) -> u16 {
        if self.scheme == "https" {
            443
        } else {
            80
        }
    }

    /// Where a token may travel in the clear: nowhere but this machine.
    fn private_channel(&self) -> bool {
        self.scheme == "https" || loopback(&self.host)
    }

    /// How the allow-list names this origin.
    fn as_host(&self) -> String {
        let default = self.default_port();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Fetches artefacts from allowed hosts.
pub struct Fetcher {
    agent: ureq::Agent,
    timeout: Duration,
    allowed: Vec<AllowedHost>,
    /// The API's own origin: the only one the token is sent to.
    api: Option<Origin>,
    token: Option<String>,
    caps: Caps,
}

/// A fetched file, or the answer that it is not there.
enum Fetched<T> {
    Found(T),
    NotFound,
}

impl Fetcher {
    pub fn new(
        timeout: Duration,
        allowed: Vec<AllowedHost>,
        api: Option<Origin>,
        token: Option<String>,
        caps: Caps,
    ) -> Fetcher {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(http::USER_AGENT)
            .max_redirects(0)
            .timeout_connect(Some(timeout.min(Duration::from_secs(15))))
            .timeout_recv_response(Some(timeout))
            .timeout_recv_body(Some(timeout))
            // However slowly a server sends, one artefact takes no longer.
            .timeout_global(Some(caps.time))
            .middleware(http::trace)
            .build()
            .into();
        Fetcher {
            agent,
            timeout,
            allowed,
            api,
            token,
            caps,
        }
    }

    /// Reads a finished job's results.
    pub fn results(&self, job: &Job, cb: &Callback) -> Result<JobResults, FetchError> {
        // A report on a job that has not finished has no results to read.
        if let Some(state) = cb.status["state"].as_str().filter(|s| *s != "finished") {
            return Err(FetchError::NotFinished(format!(
                "TuxSuite says {} {} is {state}, not finished",
                job.kind,
                job.uid.as_deref().unwrap_or("-")
            )));
        }
        match job.kind {
            JobKind::Build => self.build(cb).map(JobResults::Build),
            JobKind::Test | JobKind::Boot => self.test(job, cb).map(JobResults::Test),
        }
    }

    fn build(&self, cb: &Callback) -> Result<BuildResults, FetchError> {
        let s = &cb.status;
        let download = download_base(s);
        let mut missing = None;
        let mut out = BuildResults {
            canceled: text(s, "result").as_deref() == Some("canceled"),
            git_repo: text(s, "git_repo"),
            git_ref: text(s, "git_ref"),
            git_sha: text(s, "git_sha"),
            git_describe: text(s, "git_describe"),
            arch: text(s, "target_arch"),
            toolchain: text(s, "toolchain"),
            kconfig: s["kconfig"]
                .as_array()
                .map(|k| {
                    k.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            status: Some(Status::from_runner(
                s["build_status"].as_str().or(s["result"].as_str()),
            )),
            start_time: time(s, "provisioning_time").or_else(|| time(s, "running_time")),
            duration: number(&s["duration"]),
            ..BuildResults::default()
        };
        if let Some(base) = &download {
            out.log_url = Some(format!("{base}build.log"));
            out.config_url = Some(format!("{base}config"));
            if let Some(image) = text(s, "kernel_image_name") {
                out.output_files.push(OutputFile {
                    url: format!("{base}{}", encode(&image)),
                    name: file_name(&image),
                });
            }
            // `modules` is `false` or a file name.
            if let Some(modules) = text(s, "modules") {
                out.output_files.push(OutputFile {
                    url: format!("{base}{}", encode(&modules)),
                    name: file_name(&modules),
                });
            }
            // A failed build's log tail says why; a passing one needs none.
            if matches!(out.status, Some(Status::Fail | Status::Error)) {
                match self.tail(&format!("{base}build.log"), public(s)) {
                    Ok(Fetched::Found(tail)) => out.log_excerpt = Some(tail),
                    Ok(Fetched::NotFound) => {}
                    // The build's verdict stands without its log.
                    Err(FetchError::Permanent(why)) => {
                        missing = Some(format!("could not fetch build.log: {why}"))
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let mut misc = Map::new();
        misc.insert("runtime".into(), "tuxsuite".into());
        misc.insert("uid".into(), s["uid"].clone());
        for key in ["kernel_version", "git_short_log", "status_message"] {
            if let Some(v) = text(s, key) {
                misc.insert(key.into(), v.into());
            }
        }
        for key in ["warnings_count", "errors_count"] {
            if let Some(n) = number(&s[key]) {
                misc.insert(key.into(), Value::from(n as i64));
            }
        }
        if let Some(c) = s["tuxmake_metadata"]["compiler"].as_object() {
            if let (Some(name), Some(version)) = (c["name"].as_str(), c["version"].as_str()) {
                misc.insert(
                    "compiler_version".into(),
                    format!("{name} {version}").into(),
                );
            }
        }
        if let Some(note) = missing {
            misc.insert("missing".into(), note.into());
        }
        out.misc = misc;
        Ok(out)
    }

    fn test(&self, job: &Job, cb: &Callback) -> Result<TestResults, FetchError> {
        let s = &cb.status;
        let download = download_base(s);
        let mut out = TestResults {
            device: text(s, "device").or_else(|| job.device.clone()),
            verdicts: s["results"]
                .as_object()
                .map(|r| {
                    r.iter()
                        .map(|(name, v)| (name.clone(), Status::from_runner(v.as_str())))
                        .collect()
                })
                .unwrap_or_default(),
            start_time: time(s, "running_time").or_else(|| time(s, "provisioning_time")),
            duration: number(&s["duration"]),
            canceled: text(s, "result").as_deref() == Some("canceled"),
            ..TestResults::default()
        };
        let mut misc = Map::new();
        misc.insert("runtime".into(), "tuxsuite".into());
        misc.insert("uid".into(), s["uid"].clone());
        if let Some(r) = text(s, "result") {
            misc.insert("job_result".into(), r.into());
        }
        // A test chained to a build that did not succeed never runs: TuxSuite
        // finishes it with no results at all.
        let waited = text(s, "waiting_for");
        if out.verdicts.is_empty() {
            if let Some(w) = &waited {
                let why = format!("it never ran: {w}, which it waited for, did not succeed");
                misc.insert("error".into(), why.clone().into());
                out.misc = misc;
                out.problem = Some(why);
                return Ok(out);
            }
        }
        out.misc = misc;
        let Some(base) = download else {
            out.problem = Some("the callback has no download_url, so no detailed results".into());
            return Ok(out);
        };
        out.log_url = Some(format!("{base}logs.txt"));
        // What cannot be fetched for good is said, and the verdicts the
        // callback gave stand; what may come later is retried.
        let mut missing = Vec::new();
        if job.kind == JobKind::Test {
            match self.get(&format!("{base}results.json"), public(s), self.caps.bytes) {
                Ok(Fetched::Found(bytes)) => match parse_results(&bytes, self.caps.cases) {
                    Ok((cases, 0)) => out.cases = cases,
                    Ok((_, total)) => {
                        out.misc
                            .insert("cases_dropped".into(), Value::from(total as u64));
                        out.trimmed = Some(format!(
                            "{total} test cases are more than max_cases ({}): the verdicts are kept, the cases dropped",
                            self.caps.cases
                        ));
                    }
                    Err(e) => out.problem = Some(format!("results.json is malformed: {e}")),
                },
                Ok(Fetched::NotFound) => {
                    out.problem = Some("results.json is not among the job's artefacts".into())
                }
                Err(FetchError::Permanent(why)) => {
                    missing.push(format!("results.json: {why}"));
                }
                Err(e) => return Err(e),
            }
        }
        match self.tail(&format!("{base}logs.txt"), public(s)) {
            Ok(Fetched::Found(tail)) => out.log_excerpt = Some(tail),
            Ok(Fetched::NotFound) => {}
            Err(FetchError::Permanent(why)) => missing.push(format!("logs.txt: {why}")),
            Err(e) => return Err(e),
        }
        if !missing.is_empty() {
            let why = format!("could not fetch {}", missing.join("; "));
            out.misc.insert("missing".into(), why.clone().into());
            out.problem.get_or_insert(why);
        }
        Ok(out)
    }

    /// GETs `url`, following redirects to allowed hosts only.
    fn get(&self, url: &str, public: bool, limit: u64) -> Result<Fetched<Vec<u8>>, FetchError> {
        self.fetch(url, public, None, |r| {
            let mut buf = Vec::new();
            r.take(limit).read_to_end(&mut buf)?;
            Ok(buf)
        })
    }

    /// Every file under a job's `download_url` (`base`), named by its path
    /// below it, from the storage's `?export=json` listing (`files` and
    /// `folders`, each with a `Url`), folders followed below `base` only.
    /// A hostile storage cannot make a listing endless: it stops, saying
    /// why, at [`MAX_LISTED`] files, [`MAX_FOLDERS`] folders, 8 levels or
    /// the artefact time limit. A file kbridge will not fetch is listed
    /// with the reason.
    pub fn listing(&self, base: &str, public: bool) -> Result<Listing, FetchError> {
        const MAX_DEPTH: usize = 8;
        let started = std::time::Instant::now();
        let mut out = Listing::default();
        let mut folders = vec![(base.to_string(), 0)];
        let mut seen = std::collections::HashSet::new();
        let mut asked = 0;
        let (mut cuts, mut full, mut too_deep) = (Vec::new(), false, 0);
        while let Some((folder, depth)) = folders.pop() {
            if asked == MAX_FOLDERS {
                cuts.push(format!(
                    "the listing stopped after {MAX_FOLDERS} folders; {} more were not read",
                    folders.len() + 1
                ));
                break;
            }
            if started.elapsed() > self.caps.time {
                cuts.push(format!(
                    "the listing stopped after {}s (artifact_timeout) and {asked} folders",
                    self.caps.time.as_secs()
                ));
                break;
            }
            asked += 1;
            let url = format!("{folder}?export=json");
            let bytes = match self.get(&url, public, self.caps.bytes)? {
                Fetched::Found(b) => b,
                Fetched::NotFound => {
                    return Err(FetchError::Permanent(format!(
                        "TuxSuite storage has no {folder}"
                    )))
                }
            };
            let listing: Value = serde_json::from_slice(&bytes).map_err(|e| {
                FetchError::Permanent(format!("the listing of {folder} is not JSON: {e}"))
            })?;
            let url_of = |v: &Value| {
                v.get("Url")
                    .or_else(|| v.get("url"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            for f in listing["files"].as_array().into_iter().flatten() {
                let Some(u) = url_of(f) else { continue };
                if out.files.len() == MAX_LISTED {
                    full = true;
                    break;
                }
                let (name, outside) = match u.strip_prefix(base) {
                    Some(rel) => (rel.to_string(), None),
                    None => (
                        u.rsplit('/').next().unwrap_or(&u).to_string(),
                        Some(format!("it is outside the job's folder {base}")),
                    ),
                };
                let refused = outside
                    .or_else(|| {
                        (name.is_empty()
                            || name
                                .split('/')
                                .any(|p| p == ".." || p == "." || p.is_empty()))
                        .then(|| "its path has an empty, '.' or '..' part".to_string())
                    })
                    .or_else(|| self.refusal(&u).err());
                out.files.push(Artefact {
                    name,
                    url: u,
                    refused,
                });
            }
            if full {
                cuts.push(format!(
                    "the listing stopped at {MAX_LISTED} files; the job has more"
                ));
                break;
            }
            for d in listing["folders"].as_array().into_iter().flatten() {
                let Some(u) = url_of(d) else { continue };
                let u = if u.ends_with('/') { u } else { format!("{u}/") };
                // Only below the job's own folder, each once.
                if u.starts_with(base) && u.len() > base.len() && seen.insert(u.clone()) {
                    if depth + 1 > MAX_DEPTH {
                        too_deep += 1;
                        continue;
                    }
                    folders.push((u, depth + 1));
                }
            }
        }
        if too_deep > 0 {
            cuts.push(format!(
                "{too_deep} folder(s) deeper than {MAX_DEPTH} levels were not read"
            ));
        }
        out.cut = (!cuts.is_empty()).then(|| cuts.join("; "));
        out.files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Why an artefact URL may not be fetched from, if it may not: not
    /// http(s), plain http from another machine, or a host not allowed.
    fn refusal(&self, url: &str) -> Result<Origin, String> {
        let uri: ::http::Uri = url
            .parse()
            .map_err(|_| format!("artefact URL {url} is not valid"))?;
        let Some(origin) = Origin::of(&uri) else {
            return Err(format!("artefact URL {url} is not http or https"));
        };
        // The API's own origin is trusted as much as the API itself.
        let allowed =
            self.api.as_ref() == Some(&origin) || self.allowed.iter().any(|a| a.admits(&origin));
        if !allowed && origin.scheme == "http" && !loopback(&origin.host) {
            return Err(format!(
                "artefact URL {url} is plain http from another machine; artefacts are fetched over https only"
            ));
        }
        if !allowed {
            return Err(format!(
                "artefacts from {} are not allowed; add it with --allow-artifact-host {} or tuxsuite.artifact_hosts",
                origin.host,
                origin.as_host()
            ));
        }
        Ok(origin)
    }

    /// Copies a file to `out` as it arrives (`console`: the console lines
    /// of a LAVA-style log); `None` when the storage does not have it, else
    /// the bytes read.
    pub fn stream(
        &self,
        url: &str,
        public: bool,
        console: bool,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, FetchError> {
        let fetched = self.fetch(url, public, None, |r| {
            if console {
                let mut counted = Counted { inner: r, n: 0 };
                crate::runner::console_lines(std::io::BufReader::new(&mut counted), |l| {
                    writeln!(out, "{l}")
                })?;
                Ok(counted.n)
            } else {
                std::io::copy(r, out)
            }
        })?;
        Ok(match fetched {
            Fetched::Found(n) => Some(n),
            Fetched::NotFound => None,
        })
    }

    /// The last [`crate::model::LOG_EXCERPT_CHARS`] characters of a log, NULs removed.
    /// Asks for the end of the file only; a server that ignores the range
    /// is read through, keeping the tail.
    fn tail(&self, url: &str, public: bool) -> Result<Fetched<String>, FetchError> {
        let caps_bytes = self.caps.bytes;
        let fetched = self.fetch(url, public, Some(TAIL_BYTES), |r| {
            let mut tail: VecDeque<u8> = VecDeque::with_capacity(TAIL_BYTES as usize);
            let mut chunk = vec![0u8; 64 * 1024];
            // A server that ignores the range is read through, up to the cap.
            let mut r = r.take(caps_bytes);
            loop {
                let n = r.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                tail.extend(&chunk[..n]);
                let excess = tail.len().saturating_sub(TAIL_BYTES as usize);
                tail.drain(..excess);
            }
            Ok(Vec::from(tail))
        })?;
        Ok(match fetched {
            Fetched::Found(bytes) => Fetched::Found(excerpt(&bytes)),
            Fetched::NotFound => Fetched::NotFound,
        })
    }

    fn fetch<T>(
        &self,
        url: &str,
        public: bool,
        range_tail: Option<u64>,
        read: impl FnOnce(&mut dyn Read) -> std::io::Result<T>,
    ) -> Result<Fetched<T>, FetchError> {
        let mut url = url.to_string();
        for hop in 0..=MAX_REDIRECTS {
            let origin = self.refusal(&url).map_err(FetchError::Permanent)?;
            let mut req = self.agent.get(&url);
            // The token goes to TuxSuite's API only, over a private channel,
            // and never to where it redirects.
            let to_api = self.api.as_ref() == Some(&origin) && origin.private_channel();
            if let (false, 0, true, Some(token)) = (public, hop, to_api, &self.token) {
                req = req.header("Authorization", token);
            }
            if let Some(n) = range_tail {
                req = req.header("Range", &format!("bytes=-{n}"));
            }
            let mut resp = match req.call() {
                Ok(r) => r,
                Err(e) => {
                    let why = format!("{url}: {}", http::describe(&e, self.timeout));
                    return Err(FetchError::transport(&e, why));
                }
            };
            let status = resp.status().as_u16();
            match status {
                200..=299 => {
                    let mut reader = resp.body_mut().as_reader();
                    return read(&mut reader)
                        .map(Fetched::Found)
                        .map_err(|e| FetchError::Transient(format!("{url}: {e}")));
                }
                301 | 302 | 303 | 307 | 308 => {
                    let location = resp
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .ok_or_else(|| {
                            FetchError::Permanent(format!("{url}: redirect without Location"))
                        })?;
                    url = resolve(&url, location).ok_or_else(|| {
                        FetchError::Permanent(format!("{url}: redirect to an unusable Location"))
                    })?;
                }
                404 | 410 => return Ok(Fetched::NotFound),
                416 => {
                    // An empty file cannot satisfy a suffix range.
                    return read(&mut std::io::empty())
                        .map(Fetched::Found)
                        .map_err(|e| FetchError::Transient(format!("{url}: {e}")));
                }
                _ => {
                    return Err(FetchError::from_status(
                        status,
                        http::retry_after(resp.headers()),
                        format!("{url}: HTTP {status}"),
                    ))
                }
            }
        }
        Err(FetchError::Permanent(format!(
            "{url}: more than {MAX_REDIRECTS} redirects"
        )))
    }
}

/// A reader that counts what passes through it.
struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// Reads `results.json`: `{suite: {case: {"result": ...}}}`. The `lava`
/// suite holds LAVA's own steps and is skipped; entries without a `result`
/// are nested groups and skipped too; `N_` prefixes are stripped.
///
/// At most `max_cases` are kept: beyond it none are, and the total is
/// returned instead of 0. Only what is used is decoded, so a large file
/// costs little more memory than its bytes.
pub fn parse_results(bytes: &[u8], max_cases: usize) -> Result<(Vec<CaseResult>, usize), String> {
    let doc: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Entry>> =
        match serde_json::from_slice(bytes) {
            Ok(d) => d,
            Err(e) => {
                // Say what is wrong in the terms of the format.
                return Err(
                    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                        Ok(_) if !bytes.trim_ascii_start().starts_with(b"{") => {
                            "the top level is not an object".into()
                        }
                        Ok(_) => format!("a suite is not an object: {e}"),
                        Err(_) => e.to_string(),
                    },
                );
            }
        };
    let mut cases = Vec::new();
    let mut total = 0;
    for (suite, entries) in doc {
        let suite = strip_index(&suite).to_string();
        if suite == "lava" {
            continue;
        }
        for (case, entry) in entries {
            let Some(result) = entry.result else {
                continue;
            };
            total += 1;
            if total > max_cases {
                cases.clear();
                continue;
            }
            cases.push(CaseResult {
                test: suite.clone(),
                set: None,
                name: strip_index(&case).to_string(),
                status: Status::from_runner(result.as_str()),
                duration: number(entry.duration.as_ref().unwrap_or(&Value::Null)),
                measurement: None,
            });
        }
    }
    Ok(if total > max_cases {
        (Vec::new(), total)
    } else {
        (cases, 0)
    })
}

/// One entry of a suite: its `result` and `duration`; anything else in it
/// is skipped unread, and an entry that is not an object has neither.
struct Entry {
    result: Option<Value>,
    duration: Option<Value>,
}

impl<'de> serde::Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Entry, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Entry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a test case")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entry, A::Error> {
                let mut e = Entry {
                    result: None,
                    duration: None,
                };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "result" => e.result = Some(map.next_value()?),
                        "duration" => e.duration = Some(map.next_value()?),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(e)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Entry, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Entry {
                    result: None,
                    duration: None,
                })
            }
            fn visit_str<E>(self, _: &str) -> Result<Entry, E> {
                Ok(Entry {
                    result: None,
                    duration: None,
                })
            }
            fn visit_bool<E>(self, _: bool) -> Result<Entry, E> {
                Ok(Entry {
                    result: None,
                    duration: None,
                })
            }
            fn visit_i64<E>(self, _: i64) -> Result<Entry, E> {
                Ok(Entry {
                    result: None,
                    duration: None,
                })
            }
            fn visit_u64<E>(self, _: u64) -> Result<Entry, E> {
                Ok(Entry {
                    result: None,
                    duration: None,
                })
            }
            fn visit_f64<E>(self, _: f64) -> Result<Entry, E> {
                Ok(Entry {
                    result: None,
                    duration: None,
                })
            }
            fn visit_unit<E>(self) -> Result<Entry, E> {
                Ok(Entry {
                    result: None,
                    duration: None,
                })
            }
        }
        d.deserialize_any(Fields)
    }
}

/// `0_ltp-smoke` → `ltp-smoke`.
fn strip_index(name: &str) -> &str {
    match name.split_once('_') {
        Some((digits, rest))
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !rest.is_empty() =>
        {
            rest
        }
        _ => name,
    }
}

/// A job's `download_url`, ending in `/` so file names can follow it.
pub(super) fn download_base(s: &Value) -> Option<String> {
    text(s, "download_url").map(|u| if u.ends_with('/') { u } else { format!("{u}/") })
}

fn public(s: &Value) -> bool {
    s["is_public"].as_bool().unwrap_or(true)
}

fn text(s: &Value, key: &str) -> Option<String> {
    s.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// A number sent as a number or as a string.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// TuxSuite times are ISO 8601 without a zone: they are UTC.
fn time(s: &Value, key: &str) -> Option<String> {
    let raw = text(s, key)?;
    if let Ok(ts) = raw.parse::<jiff::Timestamp>() {
        return Some(ts.to_string());
    }
    let civil: jiff::civil::DateTime = raw.parse().ok()?;
    civil
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().to_string())
}

fn file_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// What may stand raw in a storage path: unreserved characters and `/`.
const PATH_KEEPS: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes what may not stand raw in a URL path.
fn encode(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, PATH_KEEPS).to_string()
}

/// Where a redirect's `Location` points, relative to the URL that gave it.
fn resolve(base: &str, location: &str) -> Option<String> {
    url::Url::parse(base)
        .and_then(|b| b.join(location))
        .ok()
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_results_json_gives_cases_without_lava() {
        let (cases, dropped) = parse_results(
            include_bytes!("../../../tests/fixtures/tuxsuite/results.json"),
            100,
        )
        .unwrap();
        assert_eq!(dropped, 0);
        let names: Vec<(&str, &str, Status)> = cases
            .iter()
            .map(|c| (c.test.as_str(), c.name.as_str(), c.status))
            .collect();
        assert_eq!(
            names,
            vec![
                ("ltp-smoke", "access01", Status::Fail),
                ("ltp-smoke", "chdir01", Status::Skip),
                ("ltp-smoke", "fork01", Status::Pass),
                ("ltp-smoke", "shmat1", Status::Miss),
                ("ltp-fsx", "fsx-linux", Status::Pass),
            ]
        );
        assert!(parse_results(b"[1]", 100).is_err());
        assert!(parse_results(b"{\"a\": 3}", 100).is_err());
        assert!(parse_results(b"{nope", 100).is_err());
        // Beyond the cap no case is kept, and the total is said.
        let (cases, total) = parse_results(
            include_bytes!("../../../tests/fixtures/tuxsuite/results.json"),
            3,
        )
        .unwrap();
        assert_eq!((cases.len(), total), (0, 5));
    }

    #[test]
    fn allowed_hosts_match_host_and_port_over_https_and_loopback_http() {
        let allow = |s: &str| AllowedHost::parse(s).unwrap();
        let at = |s: &str| Origin::of(&s.parse().unwrap()).unwrap();
        let storage = allow("storage.tuxsuite.com");
        assert!(storage.admits(&at("https://storage.tuxsuite.com/x")));
        assert!(storage.admits(&at("https://STORAGE.tuxsuite.com:443/x")));
        assert!(!storage.admits(&at("http://storage.tuxsuite.com/x")));
        assert!(!storage.admits(&at("https://storage.tuxsuite.com:8443/x")));
        assert!(allow("a.example:8443").admits(&at("https://a.example:8443/")));
        assert!(allow("127.0.0.1:8000").admits(&at("http://127.0.0.1:8000/")));
        assert!(allow("[::1]:8000").admits(&at("http://[::1]:8000/")));
        assert!(!allow("10.0.0.1:8000").admits(&at("http://10.0.0.1:8000/")));
        let ftp: ::http::Uri = "ftp://storage.tuxsuite.com/x".parse().unwrap();
        assert_eq!(Origin::of(&ftp), None, "only http and https are fetched");
    }

    #[test]
    fn a_url_given_as_a_host_is_refused_with_the_host_it_meant() {
        let e = AllowedHost::parse("https://storage.example").unwrap_err();
        assert!(e.contains("did you mean 'storage.example'?"), "{e}");
        let e = AllowedHost::parse("https://user@storage.example:8443/public/").unwrap_err();
        assert!(e.contains("did you mean 'storage.example:8443'?"), "{e}");
        assert!(AllowedHost::parse("storage.example/public").is_err());
        assert!(AllowedHost::parse("storage.example:http").is_err());
        assert!(AllowedHost::parse("").is_err());
        assert_eq!(
            AllowedHost::parse("Storage.Example:8443")
                .unwrap()
                .to_string(),
            "storage.example:8443"
        );
    }

    #[test]
    fn zone_less_times_are_utc() {
        let s = serde_json::json!({"t": "2026-02-24T12:41:42.541788", "z": "2026-02-24T12:41:42Z", "bad": "yesterday"});
        assert_eq!(time(&s, "t").unwrap(), "2026-02-24T12:41:42.541788Z");
        assert_eq!(time(&s, "z").unwrap(), "2026-02-24T12:41:42Z");
        assert_eq!(time(&s, "bad"), None);
    }

    #[test]
    fn excerpts_are_tails_without_nul() {
        use crate::model::LOG_EXCERPT_CHARS;
        let log = format!("{}\0é{}", "a".repeat(20000), "b".repeat(100));
        let e = excerpt(log.as_bytes());
        assert_eq!(e.chars().count(), LOG_EXCERPT_CHARS);
        assert!(e.ends_with(&"b".repeat(100)));
        assert!(!e.contains('\0'));
        assert!(e.contains('é'));
    }

    #[test]
    fn helpers() {
        assert_eq!(strip_index("0_ltp-smoke"), "ltp-smoke");
        assert_eq!(strip_index("12_x_y"), "x_y");
        assert_eq!(strip_index("ltp_smoke"), "ltp_smoke");
        assert_eq!(number(&serde_json::json!("2")), Some(2.0));
        assert_eq!(number(&serde_json::json!(9.35)), Some(9.35));
        assert_eq!(encode("dir/a b+c"), "dir/a%20b%2Bc");
        let base = "http://h:1/a/b/c";
        assert_eq!(resolve(base, "/x").as_deref(), Some("http://h:1/x"));
        assert_eq!(resolve(base, "d").as_deref(), Some("http://h:1/a/b/d"));
        assert_eq!(resolve(base, "https://o/p").as_deref(), Some("https://o/p"));
    }
}
