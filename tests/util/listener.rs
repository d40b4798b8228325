//! TuxSuite's signing keys, and a running `kbridge listen`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use serde_json::Value;
use std::path::Path;

use super::env::Env;

/// A P-256 key pair made for the test, as TuxSuite's signing key.
pub struct Keys {
    pair: EcdsaKeyPair,
    /// The OpenSSH public line (`ecdsa-sha2-nistp256 AAAA... comment`).
    pub line: String,
}

impl Keys {
    pub fn new() -> Keys {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let ec =
            ssh_key::public::EcdsaPublicKey::from_sec1_bytes(pair.public_key().as_ref()).unwrap();
        let line = ssh_key::PublicKey::new(ec.into(), "tuxsuite@test")
            .to_openssh()
            .unwrap();
        Keys { pair, line }
    }

    /// The DER signature of `msg`, URL-safe base64 with padding, as
    /// TuxSuite sends it.
    pub fn sign(&self, msg: &[u8]) -> String {
        use base64::Engine;
        let sig = self.pair.sign(&SystemRandom::new(), msg).unwrap();
        base64::engine::general_purpose::URL_SAFE.encode(sig.as_ref())
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, format!("{}\n", self.line)).unwrap();
    }
}

/// A running `kbridge listen`, killed when dropped.
pub struct Listener {
    child: Option<Child>,
    pub url: String,
    /// The operations address, when one was asked for.
    ops: Option<String>,
    stderr: Arc<Mutex<String>>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

impl Env {
    /// Starts `kbridge listen` on an ephemeral port with `extra` arguments
    /// and waits for the address it prints.
    pub fn listen(&self, extra: &[&str]) -> Listener {
        self.listen_with(Path::new(env!("CARGO_BIN_EXE_kbridge")), extra)
    }

    /// Starts another build of `kbridge listen` (a benchmark's baseline).
    pub fn listen_with(&self, bin: &Path, extra: &[&str]) -> Listener {
        let out = self.path("kcidb");
        let mut args = vec![
            "listen",
            "--bind",
            "127.0.0.1:0",
            "--output-dir",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let mut child = Command::new(bin)
            .args(&args)
            .env_clear()
            .envs(&self.vars)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        let ops = extra.contains(&"--ops-bind").then(|| {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            line.trim()
                .strip_prefix("operations on ")
                .unwrap_or_else(|| panic!("no operations address: {line:?}"))
                .to_string()
        });
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                let _ = child.wait();
                panic!(
                    "listener did not start: {first:?}\n{}",
                    stderr.lock().unwrap()
                )
            })
            .to_string();
        Listener {
            child: Some(child),
            url,
            ops,
            stderr,
        }
    }
}

impl Listener {
    pub fn post(&self, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Answer {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.post(format!("{}{path}", self.url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut resp = req.send(body).unwrap();
        Answer {
            status: resp.status().as_u16(),
            body: resp.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    pub fn get(&self, path: &str) -> Answer {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = agent.get(format!("{}{path}", self.url)).call().unwrap();
        Answer {
            status: resp.status().as_u16(),
            body: resp.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    /// The operations address's URL, if `--ops-bind` was given.
    pub fn ops_url(&self) -> Option<String> {
        self.ops.clone()
    }

    /// `host:port`.
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The listener's process id (benchmarks read its memory use).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> i32 {
        let mut child = self.child.take().unwrap();
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap().code().unwrap_or(-1)
    }

    /// Waits for the listener to exit by itself.
    pub fn wait_exit(mut self, timeout: Duration) -> i32 {
        let mut child = self.child.take().unwrap();
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if start.elapsed() > timeout {
                let _ = child.kill();
                panic!("listener did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
