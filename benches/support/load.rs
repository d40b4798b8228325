//! A load generator for `kbridge listen`: signed TuxSuite-style callbacks
//! sent over N keep-alive connections at once, with per-request latency.
//! Shared by `examples/loadgen.rs` (point it at any running listener) and
//! `benches/listen.rs` (sets everything up and reports the figures).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use serde_json::{json, Value};

/// A sample test callback, as TuxSuite sends it.
pub const SAMPLE: &str = include_str!("../../tests/fixtures/tuxsuite/test-callback.json");

/// One prepared request.
pub struct Request {
    pub path: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// What a run measured.
pub struct Report {
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub statuses: BTreeMap<u16, usize>,
    pub errors: usize,
}

impl Report {
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, q: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        if l.is_empty() {
            return Duration::ZERO;
        }
        l[((l.len() - 1) as f64 * q).round() as usize]
    }

    pub fn print(&self, label: &str) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{label}: {} requests in {:.2}s = {:.0}/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; statuses {:?}; transport errors {}",
            self.latencies.len(),
            self.elapsed.as_secs_f64(),
            self.rate(),
            ms(self.percentile(0.5)),
            ms(self.percentile(0.99)),
            ms(self.percentile(1.0)),
            self.statuses,
            self.errors
        );
    }
}

/// A signing key.
pub struct Signer {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl Signer {
    /// A fresh key; returns it with its PKCS#8 bytes.
    pub fn generate() -> (Signer, Vec<u8>) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        (Signer::from_pkcs8(pkcs8.as_ref()), pkcs8.as_ref().to_vec())
    }

    pub fn from_pkcs8(bytes: &[u8]) -> Signer {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, bytes, &rng)
            .expect("a PKCS#8 P-256 key");
        Signer { pair, rng }
    }

    /// The OpenSSH public key line `kbridge listen` takes.
    pub fn public_line(&self) -> String {
        let ec = ssh_key::public::EcdsaPublicKey::from_sec1_bytes(self.pair.public_key().as_ref())
            .unwrap();
        ssh_key::PublicKey::new(ec.into(), "kbridge-loadgen")
            .to_openssh()
            .unwrap()
    }

    pub fn sign(&self, msg: &[u8]) -> String {
        let sig = self.pair.sign(&self.rng, msg).unwrap();
        base64::engine::general_purpose::URL_SAFE.encode(sig.as_ref())
    }
}

/// A signed test callback for `uid`, optionally with the job's token.
pub fn callback(signer: &Signer, uid: &str, download: &str, token: Option<&str>) -> Request {
    let mut v: Value = serde_json::from_str(SAMPLE).unwrap();
    v["status"]["uid"] = json!(uid);
    v["status"]["download_url"] = json!(download);
    let body = v.to_string().into_bytes();
    let mut headers = vec![
        ("x-tux-payload-signature".to_string(), signer.sign(&body)),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    if let Some(t) = token {
        headers.push(("X-Kbridge-Token".to_string(), t.to_string()));
    }
    Request {
        path: "/callback/tuxsuite/test".into(),
        body,
        headers,
    }
}

/// `n` signed callbacks, each for a distinct uid no job has: each is
/// verified and committed to the inbox as unmatched.
pub fn unmatched_callbacks(signer: &Signer, n: usize) -> Vec<Request> {
    (0..n)
        .map(|i| callback(signer, &uid(i), "https://storage.tuxsuite.com/x/", None))
        .collect()
}

/// A uid that cannot clash with TuxSuite's or another run's.
pub fn uid(n: usize) -> String {
    format!("LOAD{:08x}{:015}", std::process::id(), n)
}

/// Sends every request over `connections` keep-alive connections at once.
pub fn run(base: &str, requests: Vec<Request>, connections: usize) -> Report {
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new((
        Vec::with_capacity(requests.len()),
        BTreeMap::new(),
        0usize,
    )));
    let start = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (requests, next, results, base) = (
                requests.clone(),
                next.clone(),
                results.clone(),
                base.to_string(),
            );
            std::thread::spawn(move || {
                // One agent per thread: one keep-alive connection each.
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .max_idle_connections_per_host(1)
                    .build()
                    .into();
                let mut local = (Vec::new(), BTreeMap::new(), 0usize);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(r) = requests.get(i) else { break };
                    let mut req = agent.post(format!("{base}{}", r.path));
                    for (k, v) in &r.headers {
                        req = req.header(k, v);
                    }
                    let t = Instant::now();
                    match req.send(&r.body[..]) {
                        Ok(mut resp) => {
                            let _ = resp.body_mut().read_to_vec();
                            local.0.push(t.elapsed());
                            *local.1.entry(resp.status().as_u16()).or_insert(0) += 1;
                        }
                        Err(_) => local.2 += 1,
                    }
                }
                let mut all = results.lock().unwrap();
                all.0.extend(local.0);
                for (k, v) in local.1 {
                    *all.1.entry(k).or_insert(0) += v;
                }
                all.2 += local.2;
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed();
    let (latencies, statuses, errors) =
        Arc::try_unwrap(results).ok().unwrap().into_inner().unwrap();
    Report {
        elapsed,
        latencies,
        statuses,
        errors,
    }
}

/// A size from the environment, else `default`.
pub fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of a process, from /proc (Linux).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
