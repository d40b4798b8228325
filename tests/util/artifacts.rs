//! An artefact server, and the example callbacks and results.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

/// Requests an artefact server saw: path and `Authorization` header.
pub type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// An artefact server: serves files set by the test, or 503 while down.
pub struct Artifacts {
    server: Arc<tiny_http::Server>,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    redirects: Arc<Mutex<BTreeMap<String, String>>>,
    /// Each request's path and `Authorization` header.
    pub seen: Seen,
    pub down: Arc<AtomicBool>,
    pub hits: Arc<AtomicUsize>,
    pub delay: Arc<Mutex<Duration>>,
    /// Paths answered with a body that never ends.
    endless: Arc<Mutex<std::collections::BTreeSet<String>>>,
    /// Path prefixes under which every folder listing names three more
    /// folders, forever.
    folders: Arc<Mutex<Vec<String>>>,
    /// Paths whose stored bytes are sent as `Content-Encoding: gzip`.
    gzipped: Arc<Mutex<std::collections::BTreeSet<String>>>,
}

impl Artifacts {
    pub fn start() -> Artifacts {
        let server = Arc::new(super::http_server("127.0.0.1:0"));
        let files: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
        let redirects: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
        let seen: Seen = Arc::default();
        let down = Arc::new(AtomicBool::new(false));
        let hits = Arc::new(AtomicUsize::new(0));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let (s, f, d, h, dl) = (
            server.clone(),
            files.clone(),
            down.clone(),
            hits.clone(),
            delay.clone(),
        );
        let (rd, sn) = (redirects.clone(), seen.clone());
        let endless: Arc<Mutex<std::collections::BTreeSet<String>>> = Arc::default();
        let en = endless.clone();
        let folders: Arc<Mutex<Vec<String>>> = Arc::default();
        let gzipped: Arc<Mutex<std::collections::BTreeSet<String>>> = Arc::default();
        let (fo, gz) = (folders.clone(), gzipped.clone());
        let origin = format!("http://{}", server.server_addr().to_ip().unwrap());
        std::thread::spawn(move || {
            while let Ok(req) = s.recv() {
                let (f, d, h, dl) = (f.clone(), d.clone(), h.clone(), dl.clone());
                let (rd, sn, en) = (rd.clone(), sn.clone(), en.clone());
                let (fo, gz, origin) = (fo.clone(), gz.clone(), origin.clone());
                std::thread::spawn(move || {
                    h.fetch_add(1, Ordering::SeqCst);
                    let auth = req
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("Authorization"))
                        .map(|h| h.value.to_string());
                    sn.lock().unwrap().push((req.url().to_string(), auth));
                    let location = rd.lock().unwrap().get(req.url()).cloned();
                    if let Some(to) = location {
                        let header =
                            tiny_http::Header::from_bytes("Location", to.as_bytes()).unwrap();
                        super::respond(req, tiny_http::Response::empty(302).with_header(header));
                        return;
                    }
                    if en.lock().unwrap().contains(req.url()) {
                        // Ignores Range and never ends.
                        let resp = tiny_http::Response::new(
                            tiny_http::StatusCode(200),
                            vec![],
                            std::io::repeat(b'x'),
                            None,
                            None,
                        );
                        let _ = req.respond(resp);
                        return;
                    }
                    let url = req.url().to_string();
                    if let Some(dir) = url.strip_suffix("?export=json") {
                        if fo
                            .lock()
                            .unwrap()
                            .iter()
                            .any(|p| dir.starts_with(p.as_str()))
                        {
                            let more: Vec<Value> = ["a", "b", "c"]
                                .iter()
                                .map(|n| json!({"Url": format!("{origin}{dir}{n}/")}))
                                .collect();
                            let listing = json!({
                                "files": [{"Url": format!("{origin}{dir}f")}],
                                "folders": more,
                            });
                            super::respond(
                                req,
                                tiny_http::Response::from_data(listing.to_string()),
                            );
                            return;
                        }
                    }
                    if gz.lock().unwrap().contains(&url) {
                        let body = f.lock().unwrap().get(&url).cloned().unwrap_or_default();
                        let header =
                            tiny_http::Header::from_bytes("Content-Encoding", "gzip").unwrap();
                        super::respond(
                            req,
                            tiny_http::Response::from_data(body).with_header(header),
                        );
                        return;
                    }
                    let pause = *dl.lock().unwrap();
                    std::thread::sleep(pause);
                    let resp = if d.load(Ordering::SeqCst) {
                        tiny_http::Response::from_data(b"down".to_vec()).with_status_code(503)
                    } else {
                        match f.lock().unwrap().get(req.url()) {
                            Some(body) => tiny_http::Response::from_data(body.clone()),
                            None => tiny_http::Response::from_data(b"missing".to_vec())
                                .with_status_code(404),
                        }
                    };
                    super::respond(req, resp);
                });
            }
        });
        Artifacts {
            server,
            files,
            redirects,
            seen,
            down,
            hits,
            delay,
            endless,
            folders,
            gzipped,
        }
    }

    /// Answers every folder listing under `prefix` with three more
    /// folders, forever.
    pub fn endless_folders(&self, prefix: &str) {
        self.folders.lock().unwrap().push(prefix.to_string());
    }

    /// Serves `gzip`, already compressed, at `path` as
    /// `Content-Encoding: gzip`.
    pub fn put_gzipped(&self, path: &str, gzip: Vec<u8>) {
        self.put(path, gzip);
        self.gzipped.lock().unwrap().insert(path.to_string());
    }

    /// Answers `path` with a body that never ends.
    pub fn endless(&self, path: &str) {
        self.endless.lock().unwrap().insert(path.to_string());
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// `127.0.0.1:PORT`, as `--allow-artifact-host` takes it.
    pub fn host(&self) -> String {
        self.server.server_addr().to_ip().unwrap().to_string()
    }

    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.files.lock().unwrap().insert(path.into(), body.into());
    }

    /// Answers `path` with a 302 to `to`.
    pub fn redirect(&self, path: &str, to: &str) {
        self.redirects
            .lock()
            .unwrap()
            .insert(path.into(), to.into());
    }

    /// The `Authorization` header each request for `path` carried.
    pub fn auth_for(&self, path: &str) -> Vec<Option<String>> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// Serves a test job's artefacts under `/tests/{uid}/` and returns its
    /// download URL.
    pub fn test_job(&self, uid: &str, results_json: &str, log: &str) -> String {
        self.put(&format!("/tests/{uid}/results.json"), results_json);
        self.put(&format!("/tests/{uid}/logs.txt"), log);
        format!("{}/tests/{uid}/", self.url())
    }
}

impl Drop for Artifacts {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

pub const RESULTS_JSON: &str = include_str!("../fixtures/tuxsuite/results.json");
pub const TEST_CALLBACK: &str = include_str!("../fixtures/tuxsuite/test-callback.json");
pub const BUILD_CALLBACK: &str = include_str!("../fixtures/tuxsuite/build-callback.json");

/// A test job's callback body for `uid`, its artefacts at `download`, with
/// the job's `results`.
pub fn test_callback(uid: &str, download: &str, results: Value) -> String {
    let mut v: Value = serde_json::from_str(TEST_CALLBACK).unwrap();
    v["status"]["uid"] = json!(uid);
    v["status"]["download_url"] = json!(download);
    v["status"]["results"] = results;
    v.to_string()
}

/// A build's callback body for `uid`.
pub fn build_callback(uid: &str, download: &str) -> String {
    let mut v: Value = serde_json::from_str(BUILD_CALLBACK).unwrap();
    v["status"]["uid"] = json!(uid);
    v["status"]["download_url"] = json!(download);
    v.to_string()
}
