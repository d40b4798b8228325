//! `--patch-series`: an unmerged series to apply before building, from a
//! file (mbox, .patch/.diff, .txt), a directory with a `series` file (sent
//! as a gzip tar), a `.tar.gz` holding `series`, a URL (the runner fetches
//! it), or a lore link or message-id (fetched with `b4` when installed).
//! Everything is checked here, before anything is recorded or sent.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::model::PatchSeries;

/// The largest series kbridge sends: the runner publishes it with the
/// build, and the job's record keeps it.
pub const MAX_BYTES: u64 = 16 << 20;

/// Refuses a series over [`MAX_BYTES`], naming it and its size.
fn within_limit(what: &str, bytes: u64) -> Result<(), String> {
    if bytes > MAX_BYTES {
        return Err(format!(
            "--patch-series {what}: {bytes} bytes is more than kbridge sends ({} MiB); send the series as a URL the runner fetches",
            MAX_BYTES >> 20
        ));
    }
    Ok(())
}

/// Why a patch series cannot be used: the message names the argument and
/// what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

/// What `--patch-series` names, read and checked.
pub fn load(arg: &str) -> Result<PatchSeries, PatchError> {
    read(arg).map_err(PatchError)
}

fn read(arg: &str) -> Result<PatchSeries, String> {
    if arg.contains("lore.kernel.org") {
        return from_b4(arg);
    }
    if arg.starts_with("https://") || arg.starts_with("http://") {
        return Ok(PatchSeries::Url(arg.to_string()));
    }
    let path = Path::new(arg);
    if path.is_dir() {
        return from_dir(path);
    }
    if path.is_file() {
        return from_file(path);
    }
    // Neither a URL nor a path: a message-id, as the tuxsuite client takes.
    if arg.contains('@') && !arg.contains('/') {
        return from_b4(arg);
    }
    Err(format!(
        "--patch-series '{arg}' is not a file, a directory, a URL or a message-id"
    ))
}

fn from_file(path: &Path) -> Result<PatchSeries, String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            format!(
                "--patch-series {}: the file name is not UTF-8",
                path.display()
            )
        })?
        .to_string();
    let lower = name.to_ascii_lowercase();
    let read = || {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("--patch-series {}: cannot read it: {e}", path.display()))?
            .len();
        within_limit(&path.display().to_string(), size)?;
        std::fs::read(path)
            .map_err(|e| format!("--patch-series {}: cannot read it: {e}", path.display()))
    };
    for ext in [".xz", ".bz2", ".zst", ".lz4"] {
        if lower.ends_with(ext) {
            return Err(format!(
                "--patch-series {}: {} archives are not supported; use a .tar.gz holding a series file, an mbox or a .patch",
                path.display(),
                &ext[1..]
            ));
        }
    }
    if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        let bytes = read()?;
        if !tar_has_series(&bytes) {
            return Err(format!(
                "--patch-series {}: the archive holds no series file; quilt needs one",
                path.display()
            ));
        }
        return Ok(file(name, &bytes));
    }
    if lower.ends_with(".tar") {
        return Err(format!(
            "--patch-series {}: compress it (tar czf series.tar.gz …): an uncompressed tar would be applied as an mbox",
            path.display()
        ));
    }
    let name = match lower.strip_suffix(".mbx") {
        // b4 writes .mbx; the service knows .mbox.
        Some(_) => format!("{}.mbox", &name[..name.len() - 4]),
        None => name,
    };
    let known = [".mbox", ".patch", ".diff", ".txt"];
    if !known.iter().any(|e| name.to_ascii_lowercase().ends_with(e)) {
        return Err(format!(
            "--patch-series {}: not a patch series kbridge knows (.mbox, .patch, .diff, .txt, .tar.gz with a series file, or a directory with one)",
            path.display()
        ));
    }
    Ok(file(name, &read()?))
}

fn file(name: String, bytes: &[u8]) -> PatchSeries {
    use base64::Engine;
    PatchSeries::File {
        name,
        base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

/// Whether a gzip tar holds a member named `series`.
fn tar_has_series(bytes: &[u8]) -> bool {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let Ok(entries) = archive.entries() else {
        return false;
    };
    entries.flatten().any(|e| {
        e.path()
            .ok()
            .and_then(|p| p.file_name().map(|n| n == "series"))
            .unwrap_or(false)
    })
}

/// A quilt directory, packed as `<dirname>.tgz` with its files at the
/// archive's root.
fn from_dir(dir: &Path) -> Result<PatchSeries, String> {
    if !dir.join("series").is_file() {
        return Err(format!(
            "--patch-series {}: the directory has no series file; quilt needs one",
            dir.display()
        ));
    }
    let dirname = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "patches".into());
    let fail = |e: std::io::Error| format!("--patch-series {}: cannot pack it: {e}", dir.display());
    let mut files: Vec<PathBuf> = Vec::new();
    let mut total = 0;
    collect(dir, &mut files, &mut total)?;
    within_limit(&dir.display().to_string(), total)?;
    files.sort();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    builder.mode(tar::HeaderMode::Deterministic);
    for f in &files {
        let rel = f.strip_prefix(dir).expect("collected under dir");
        builder.append_path_with_name(f, rel).map_err(fail)?;
    }
    let bytes = builder
        .into_inner()
        .and_then(|gz| gz.finish())
        .map_err(fail)?;
    Ok(file(format!("{dirname}.tgz"), &bytes))
}

/// The files of a quilt directory, and their total size. A symbolic link
/// is refused, naming it: the series is published with the build, and a
/// link could pack any file (a token) or loop forever.
fn collect(dir: &Path, out: &mut Vec<PathBuf>, total: &mut u64) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("--patch-series {}: cannot read it: {e}", dir.display());
    for e in std::fs::read_dir(dir).map_err(fail)? {
        let e = e.map_err(fail)?;
        let path = e.path();
        let kind = e.file_type().map_err(fail)?;
        if kind.is_symlink() {
            return Err(format!(
                "--patch-series: {} is a symbolic link; a series directory holds its own files only (copy the file in instead)",
                path.display()
            ));
        }
        if kind.is_dir() {
            collect(&path, out, total)?;
        } else {
            *total += e.metadata().map_err(fail)?.len();
            within_limit(&dir.display().to_string(), *total)?;
            out.push(path);
        }
    }
    Ok(())
}

/// A lore link or message-id, fetched as an mbox with `b4 am`.
fn from_b4(arg: &str) -> Result<PatchSeries, String> {
    let tmp = std::env::temp_dir().join(format!("kbridge-b4-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot make a directory for b4: {e}"))?;
    let out = std::process::Command::new("b4")
        .args(["am", "-n", "series", "-o"])
        .arg(&tmp)
        .arg(arg)
        .output();
    let result = match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "--patch-series {arg}: fetching a series from lore needs b4, which is not installed: `pipx install b4` (or your distribution's b4 package), or give the mbox file"
        )),
        Err(e) => Err(format!("--patch-series {arg}: cannot run b4: {e}")),
        Ok(o) if !o.status.success() => Err(format!(
            "--patch-series {arg}: b4 could not fetch it: {}",
            crate::http::one_line(&String::from_utf8_lossy(&o.stderr))
        )),
        Ok(_) => {
            let mbx = ["series.mbx", "series.mbox"]
                .iter()
                .map(|n| tmp.join(n))
                .find(|p| p.is_file());
            match mbx {
                Some(p) => {
                    let mut bytes = Vec::new();
                    std::fs::File::open(&p)
                        .and_then(|f| f.take(MAX_BYTES + 1).read_to_end(&mut bytes))
                        .map_err(|e| format!("reading what b4 fetched: {e}"))?;
                    within_limit(arg, bytes.len() as u64)?;
                    Ok(file("series.mbox".into(), &bytes))
                }
                None => Err(format!("--patch-series {arg}: b4 wrote no mbox")),
            }
        }
    };
    let _ = std::fs::remove_dir_all(&tmp);
    result
}
