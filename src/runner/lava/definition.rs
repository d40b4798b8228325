//! LAVA job definitions: the built-in QEMU boot, or a lab's or user's file
//! with kbridge's placeholders, plus what kbridge owns in every definition
//! (its callback in `notify`, its ids in `metadata`).
//!
//! Placeholders are filled in the parsed YAML, not in the text, so a value
//! never needs quoting: `url: {kernel}` (which YAML reads as a one-key
//! mapping) and `url: "{kernel}"` both work. `image_arg` values are left
//! alone: LAVA fills its own `{kernel}`, `{ramdisk}` there.

use std::path::Path;

use yaml_serde::{Mapping, Value};

use crate::model::{JobKind, TestSpec};
use crate::runner::{CallbackTarget, CALLBACK_TOKEN_HEADER};

/// What placeholders stand for in one job.
pub struct Fill<'a> {
    pub kernel: Option<&'a str>,
    pub modules: Option<&'a str>,
    pub rootfs: Option<&'a str>,
    pub device_type: &'a str,
    pub job_name: &'a str,
    pub tests: &'a [String],
}

/// The placeholders kbridge fills.
pub const PLACEHOLDERS: [&str; 6] = [
    "kernel",
    "modules",
    "rootfs",
    "device_type",
    "job_name",
    "tests",
];

impl Fill<'_> {
    fn value(&self, name: &str) -> Result<Value, String> {
        let missing = |what: &str| Err(format!("it uses {{{name}}} but {what}"));
        match name {
            "kernel" => match self.kernel {
                Some(k) => Ok(Value::String(k.into())),
                None => missing("no --kernel was given"),
            },
            "modules" => match self.modules {
                Some(m) => Ok(Value::String(m.into())),
                None => missing("no --modules was given"),
            },
            "rootfs" => match self.rootfs {
                Some(r) => Ok(Value::String(r.into())),
                None => missing("the lab has no rootfs setting"),
            },
            "device_type" => Ok(Value::String(self.device_type.into())),
            "job_name" => Ok(Value::String(self.job_name.into())),
            "tests" => Ok(Value::Sequence(
                self.tests
                    .iter()
                    .map(|t| Value::String(t.clone()))
                    .collect(),
            )),
            other => Err(format!(
                "{{{other}}} is not a placeholder kbridge knows; it fills {}",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            )),
        }
    }
}

/// A placeholder name: `{name}` with a lower-case identifier inside.
fn placeholder_at(s: &str) -> Option<(usize, usize, &str)> {
    let start = s.find('{')?;
    let rest = &s[start + 1..];
    let end = rest.find('}')?;
    let name = &rest[..end];
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit());
    ok.then_some((start, start + end + 2, name))
}

/// Replaces every placeholder in a string; a string that is one
/// placeholder becomes its value (a list for `{tests}`).
fn fill_string(s: &str, fill: &Fill<'_>) -> Result<Value, String> {
    if let Some((0, end, name)) = placeholder_at(s) {
        if end == s.len() {
            return fill.value(name);
        }
    }
    let mut out = String::new();
    let mut rest = s;
    loop {
        let Some((start, end, name)) = placeholder_at(rest) else {
            // An upper-case `{ID}` or other braces are LAVA's or the
            // user's, not kbridge's.
            if let Some(i) = rest.find('{') {
                out.push_str(&rest[..=i]);
                rest = &rest[i + 1..];
                continue;
            }
            out.push_str(rest);
            return Ok(Value::String(out));
        };
        out.push_str(&rest[..start]);
        match fill.value(name)? {
            Value::String(v) => out.push_str(&v),
            Value::Sequence(items) => {
                let words: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                out.push_str(&words.join(" "));
            }
            _ => unreachable!("placeholders are strings or lists"),
        }
        rest = &rest[end..];
    }
}

fn fill_value(v: &mut Value, fill: &Fill<'_>) -> Result<(), String> {
    match v {
        Value::String(s) => *v = fill_string(s, fill)?,
        Value::Sequence(items) => {
            for item in items {
                fill_value(item, fill)?;
            }
        }
        Value::Mapping(m) => {
            // `key: {kernel}` is YAML for a mapping {kernel: null}.
            if m.len() == 1 {
                if let Some((Value::String(k), Value::Null)) = m.iter().next() {
                    if placeholder_at(&format!("{{{k}}}")).is_some() {
                        *v = fill.value(k)?;
                        return Ok(());
                    }
                }
            }
            for (k, item) in m.iter_mut() {
                if k.as_str() == Some("image_arg") {
                    continue;
                }
                fill_value(item, fill)?;
            }
        }
        Value::Tagged(t) => fill_value(&mut t.value, fill)?,
        _ => {}
    }
    Ok(())
}

/// Reads a definition file and fills its placeholders. Errors name the
/// file and, for YAML errors, the line.
pub fn from_file(path: &Path, fill: &Fill<'_>) -> Result<Mapping, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the job definition {}: {e}", path.display()))?;
    let mut value: Value = crate::yaml::parse(&text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {} column {}", l.line(), l.column()))
            .unwrap_or_default();
        format!(
            "the job definition {} is not valid YAML{at}: {e}",
            path.display()
        )
    })?;
    if value
        .get("protocols")
        .and_then(|p| p.get("lava-multinode"))
        .is_some()
    {
        return Err(format!(
            "the job definition {} is a multinode job; kbridge schedules single-node LAVA jobs only for now",
            path.display()
        ));
    }
    fill_value(&mut value, fill)
        .map_err(|why| format!("the job definition {}: {why}", path.display()))?;
    match value {
        Value::Mapping(m) => Ok(m),
        _ => Err(format!(
            "the job definition {} is not a YAML mapping (device_type:, job_name:, actions: ...)",
            path.display()
        )),
    }
}

/// The built-in QEMU boot: the kernel (and modules) into tmpfs with the
/// lab's root filesystem as the ramdisk, booted with QEMU to a shell
/// prompt. Devices named `qemu-ARCH` are LAVA's `qemu` type with that
/// architecture.
pub fn qemu_boot(spec: &TestSpec, fill: &Fill<'_>) -> Result<Mapping, String> {
    let kernel = fill
        .kernel
        .ok_or("the built-in QEMU boot needs --kernel URL")?;
    let rootfs = fill.rootfs.ok_or(
        "the built-in QEMU boot needs the lab's root filesystem: set rootfs under [lava.labs.NAME], or give a boot_template or --job-definition",
    )?;
    let (device_type, arch) = match spec.device.strip_prefix("qemu-") {
        Some(arch) => ("qemu", arch),
        None => (spec.device.as_str(), "x86_64"),
    };
    let console = if arch.starts_with("arm") {
        "ttyAMA0"
    } else {
        "ttyS0"
    };
    let mut images = format!(
        "kernel:\n  image_arg: -kernel {{kernel}} -append \"console={console},115200 root=/dev/ram0 rdinit=/sbin/init\"\n  url: {}\nramdisk:\n  image_arg: -initrd {{ramdisk}}\n  url: {}\n",
        quoted(kernel),
        quoted(rootfs)
    );
    if let Some(m) = fill.modules {
        // LAVA needs the archive's compression spelled out.
        let compression = ["xz", "gz", "bz2", "zst"]
            .into_iter()
            .find(|c| m.ends_with(&format!(".{c}")))
            .unwrap_or("xz");
        images.push_str(&format!(
            "modules:\n  url: {}\n  compression: {compression}\n",
            quoted(m)
        ));
    }
    let text = format!(
        "device_type: {device_type}\njob_name: {}\npriority: medium\nvisibility: {}\ncontext:\n  arch: {arch}\ntimeouts:\n  job:\n    minutes: 30\n  action:\n    minutes: 10\n  connection:\n    minutes: 2\nactions:\n- deploy:\n    to: tmpfs\n    os: oe\n    timeout:\n      minutes: 5\n    images:\n{}- boot:\n    method: qemu\n    media: tmpfs\n    timeout:\n      minutes: 5\n    prompts:\n    - '/ #'\n    - 'root@.*:~#'\n",
        quoted(fill.job_name),
        if spec.private { "personal" } else { "public" },
        indent(&images, 6),
    );
    match yaml_serde::from_str(&text) {
        Ok(Value::Mapping(m)) => Ok(m),
        other => unreachable!("the built-in template is valid YAML: {other:?}"),
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialise")
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// Adds what kbridge owns: its ids in `metadata` (as strings, as LAVA
/// requires), and its callback in `notify` (added to the callbacks a
/// definition already has, never replacing them).
pub fn add_kbridge(
    def: &mut Mapping,
    job_id: Option<i64>,
    build_id: &str,
    callback: Option<&CallbackTarget>,
) {
    let s = |v: &str| Value::String(v.to_string());
    let metadata = def
        .entry(s("metadata"))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if !metadata.is_mapping() {
        *metadata = Value::Mapping(Mapping::new());
    }
    let metadata = metadata.as_mapping_mut().expect("made a mapping above");
    if let Some(id) = job_id {
        metadata.insert(s("kbridge.job_id"), s(&id.to_string()));
    }
    if !build_id.is_empty() {
        metadata.insert(s("kbridge.build_id"), s(build_id));
    }
    let Some(cb) = callback else { return };
    let mut ours = Mapping::new();
    ours.insert(s("url"), s(&cb.url));
    ours.insert(s("method"), s("POST"));
    ours.insert(s("dataset"), s("minimal"));
    ours.insert(s("content-type"), s("json"));
    ours.insert(s("token"), s(&cb.token));
    ours.insert(s("header"), s(CALLBACK_TOKEN_HEADER));
    let notify = def
        .entry(s("notify"))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if !notify.is_mapping() {
        *notify = Value::Mapping(Mapping::new());
    }
    let notify = notify.as_mapping_mut().expect("made a mapping above");
    if !notify.contains_key("criteria") {
        let mut criteria = Mapping::new();
        criteria.insert(s("status"), s("finished"));
        notify.insert(s("criteria"), Value::Mapping(criteria));
    }
    let callbacks = notify
        .entry(s("callbacks"))
        .or_insert_with(|| Value::Sequence(vec![]));
    match callbacks {
        Value::Sequence(list) => list.push(Value::Mapping(ours)),
        other => *other = Value::Sequence(vec![Value::Mapping(ours)]),
    }
}

/// The job name kbridge gives a job it writes.
pub fn job_name(kind: JobKind, spec: &TestSpec) -> String {
    match kind {
        JobKind::Boot => format!("kbridge boot {} on {}", spec.build_id, spec.device),
        _ => format!(
            "kbridge {} {} on {}",
            spec.tests.join(","),
            spec.build_id,
            spec.device
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill<'a>(tests: &'a [String]) -> Fill<'a> {
        Fill {
            kernel: Some("https://example.org/Image"),
            modules: None,
            rootfs: Some("https://example.org/rootfs.cpio.gz"),
            device_type: "qemu-riscv64",
            job_name: "job",
            tests,
        }
    }

    fn filled(text: &str, tests: &[String]) -> Result<Value, String> {
        let mut v: Value = yaml_serde::from_str(text).unwrap();
        fill_value(&mut v, &fill(tests)).map(|()| v)
    }

    #[test]
    fn placeholders_are_filled_quoted_or_not_and_image_args_are_lavas() {
        let tests = vec!["ltp-smoke".to_string(), "ltp-fsx".to_string()];
        let v = filled(
            "a: {kernel}\nb: \"{rootfs}\"\nc: 'x {device_type} y'\nd: {tests}\ne:\n  image_arg: -kernel {kernel}\nf: {ID}\n",
            &tests,
        )
        .unwrap();
        assert_eq!(v["a"], Value::String("https://example.org/Image".into()));
        assert_eq!(
            v["b"],
            Value::String("https://example.org/rootfs.cpio.gz".into())
        );
        assert_eq!(v["c"], Value::String("x qemu-riscv64 y".into()));
        assert_eq!(v["d"][1], Value::String("ltp-fsx".into()));
        assert_eq!(
            v["e"]["image_arg"],
            Value::String("-kernel {kernel}".into())
        );
        let e = filled("a: {colonel}\n", &tests).unwrap_err();
        assert!(e.contains("{colonel} is not a placeholder"), "{e}");
        let e = filled("a: {modules}\n", &tests).unwrap_err();
        assert!(e.contains("no --modules was given"), "{e}");
    }

    #[test]
    fn kbridge_adds_its_callback_beside_others_and_its_ids_as_strings() {
        let mut def: Mapping = yaml_serde::from_str(
            "job_name: x\nmetadata:\n  mine: '1'\nnotify:\n  criteria:\n    status: complete\n  callbacks:\n  - url: https://other.example/cb\n",
        )
        .unwrap();
        let cb = CallbackTarget {
            url: "https://ci.example/callback/lava/test".into(),
            token: "t0k".into(),
        };
        add_kbridge(&mut def, Some(7), "maestro:1", Some(&cb));
        let v = Value::Mapping(def);
        assert_eq!(v["metadata"]["mine"], Value::String("1".into()));
        assert_eq!(v["metadata"]["kbridge.job_id"], Value::String("7".into()));
        assert_eq!(
            v["notify"]["criteria"]["status"],
            Value::String("complete".into())
        );
        let cbs = v["notify"]["callbacks"].as_sequence().unwrap();
        assert_eq!(cbs.len(), 2);
        assert_eq!(cbs[1]["header"], Value::String("X-Kbridge-Token".into()));
        assert_eq!(cbs[1]["dataset"], Value::String("minimal".into()));
    }
}
