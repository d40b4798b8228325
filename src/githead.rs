//! `--git-head`: the repository and commit of the local checkout, as a
//! runner can fetch them. The remote is `git config tuxsuite.remote` (as
//! the tuxsuite client reads it), else `origin`; its URL is rewritten to
//! https; and the commit must be one the remote has, or is pushed there
//! first (`--push`, to `refs/tuxsuite/<sha>`).

use std::path::Path;
use std::process::Command;

/// The checkout's HEAD, as the runner is to fetch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub repo: String,
    pub sha: String,
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "--git-head needs git, which is not installed".to_string()
            }
            _ => format!("cannot run git: {e}"),
        })?;
    if !out.status.success() {
        return Err(format!(
            "git {} failed: {}",
            args.join(" "),
            crate::http::one_line(&String::from_utf8_lossy(&out.stderr))
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Resolves HEAD in `dir`, pushing it first with `push`. A dry run
/// pushes nothing: with `push` it takes the commit as the push would
/// leave it, on the remote.
pub fn resolve(dir: &Path, push: bool, dry_run: bool) -> Result<Head, GitHeadError> {
    head(dir, push, dry_run).map_err(GitHeadError)
}

/// Why `--git-head` cannot name the checkout's HEAD: the message says what
/// to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GitHeadError(pub String);

fn head(dir: &Path, push: bool, dry_run: bool) -> Result<Head, String> {
    let sha = git(dir, &["rev-parse", "HEAD"])
        .map_err(|e| format!("--git-head: not in a git checkout with a commit ({e})"))?;
    let remote = git(
        dir,
        &["config", "--get", "--default", "origin", "tuxsuite.remote"],
    )?;
    // The URL as configured, not as `insteadOf` rewrites it for fetching:
    // that is the public form (an https remote pushed to over ssh).
    let url = git(dir, &["config", "--get", &format!("remote.{remote}.url")]).map_err(|_| {
        format!("--git-head: the checkout has no remote '{remote}'; add one, or set git config tuxsuite.remote to the one to use")
    })?;
    let repo =
        public_url(&url).map_err(|why| format!("--git-head: remote '{remote}' ({url}) {why}"))?;
    if push && dry_run {
        // Nothing is sent in a dry run, to the runner or to the remote.
    } else if push {
        git(
            dir,
            &["push", &remote, &format!("HEAD:refs/tuxsuite/{sha}")],
        )
        .map_err(|e| format!("--git-head --push: {e}"))?;
    } else {
        let refs = git(dir, &["ls-remote", &remote])
            .map_err(|e| format!("--git-head: cannot list remote '{remote}': {e}"))?;
        if !refs.lines().any(|l| l.starts_with(&sha)) {
            return Err(format!(
                "--git-head: HEAD ({}) is not on remote '{remote}', so the runner could not fetch it: push it, or add --push to push it to refs/tuxsuite/{}",
                &sha[..12.min(sha.len())],
                &sha[..12.min(sha.len())]
            ));
        }
    }
    Ok(Head { repo, sha })
}

/// A remote URL the runner can fetch without credentials: https (or
/// http, git://) as is; `git@host:path` and `ssh://[user@]host/path` as
/// `https://host/path`. A local path, or an ssh URL with a port (whose
/// https form is unknown), cannot be rewritten.
fn public_url(url: &str) -> Result<String, String> {
    if url.starts_with("https://") || url.starts_with("http://") || url.starts_with("git://") {
        return Ok(url.to_string());
    }
    if let Some(rest) = url.strip_prefix("ssh://") {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let (host, path) = rest.split_once('/').ok_or("is an ssh URL without a path")?;
        if host.contains(':') {
            return Err("is an ssh URL with a port, which has no https form kbridge can know; set tuxsuite.remote to an https remote".into());
        }
        return Ok(format!("https://{host}/{path}"));
    }
    // scp-like: [user@]host:path
    if let Some((left, path)) = url.split_once(':') {
        if !left.contains('/') && !path.starts_with("//") && !left.is_empty() {
            let host = left.rsplit_once('@').map_or(left, |(_, h)| h);
            return Ok(format!("https://{host}/{}", path.trim_start_matches('/')));
        }
    }
    Err("is a local path or file URL, which a runner cannot fetch; set tuxsuite.remote to a public remote".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_become_https_or_say_why_not() {
        assert_eq!(
            public_url("git@github.com:alice/linux.git").unwrap(),
            "https://github.com/alice/linux.git"
        );
        assert_eq!(
            public_url("ssh://git@git.kernel.org/pub/scm/linux.git").unwrap(),
            "https://git.kernel.org/pub/scm/linux.git"
        );
        assert_eq!(
            public_url("https://git.kernel.org/x.git").unwrap(),
            "https://git.kernel.org/x.git"
        );
        assert!(public_url("ssh://git@host:2222/a/l.git")
            .unwrap_err()
            .contains("port"));
        assert!(public_url("/srv/git/linux.git")
            .unwrap_err()
            .contains("local path"));
        assert!(public_url("file:///srv/git/linux.git")
            .unwrap_err()
            .contains("local path"));
    }
}
