//! The committed shell completions (`completions/`) and man pages (`man/`),
//! rendered from the clap definitions plus the text kept here: each page's
//! examples, the variables its command honours and its exit statuses. A
//! test fails when the committed copies are stale;
//! `KBRIDGE_UPDATE_GENERATED=1 cargo test generated_files_are_current`
//! rewrites them.

use std::path::Path;

use clap_complete::Shell;
use roff::{bold, roman, Roff};

use crate::cli;

/// The date the pages carry: that of the last change to their text (a
/// fixed date keeps regenerated pages identical).
const MANUAL_DATE: &str = "2026-12-01";

/// The shells kbridge ships completions for.
const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

/// Each page's examples: what it shows, then the command line.
const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "kbridge",
        &[
            ("Schedule a test of a kernel on TuxSuite:", "kbridge schedule test --kernel https://storage.example/Image --tests ltp-smoke --build-id maestro:1"),
            ("Receive its callback and write the KCIDB document:", "kbridge listen --tuxsuite-public-key tuxsuite.pub"),
            ("Or, without a public URL, wait for it by polling:", "kbridge wait"),
        ],
    ),
    (
        "kbridge-schedule",
        &[
            ("Build a tree:", "kbridge schedule build --tree https://git.kernel.org/pub/scm/linux/kernel/git/riscv/linux.git --branch for-next --toolchain gcc-13 --kconfig defconfig"),
            ("See the request without an account or sending anything:", "kbridge schedule test --kernel URL --tests ltp-smoke --build-id maestro:1 --dry-run"),
        ],
    ),
    (
        "kbridge-schedule-build",
        &[
            ("A defconfig build with one fragment:", "kbridge schedule build --tree https://git.kernel.org/pub/scm/linux/kernel/git/riscv/linux.git --branch for-next --toolchain gcc-13 --kconfig defconfig --fragment CONFIG_KASAN=y"),
            ("The record, for a script:", "kbridge schedule build --tree URL --sha 0123abcd --toolchain clang-18 --kconfig defconfig --json"),
        ],
    ),
    (
        "kbridge-schedule-test",
        &[
            ("Two LTP suites on the default QEMU RISC-V device:", "kbridge schedule test --kernel URL --modules URL --tests ltp-smoke,ltp-fsx --build-id maestro:681b69099ae9711e9ed49766"),
            ("Test the kernel of build job 1 once it is built:", "kbridge schedule test --after 1 --tests ltp-smoke"),
        ],
    ),
    (
        "kbridge-schedule-boot",
        &[
            ("Boot a kernel on QEMU arm64:", "kbridge schedule boot --kernel URL --device qemu-arm64 --build-id 1"),
            ("Schedule and wait for the verdict:", "kbridge schedule boot --kernel URL --build-id 1 --wait"),
        ],
    ),
    (
        "kbridge-schedule-plan",
        &[
            ("See what a plan would submit:", "kbridge schedule plan plan.yaml --dry-run"),
            ("Submit one job of it, and wait for it all:", "kbridge schedule plan plan.yaml --job defconfig --wait"),
            ("Builds that name no repository take it from the command line:", "kbridge schedule plan plan.yaml --tree https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git --branch master --patch-series fixes.mbox"),
        ],
    ),
    (
        "kbridge-jobs",
        &[
            ("The latest jobs:", "kbridge jobs --limit 20"),
            ("Tests that have not reported back, for a script:", "kbridge jobs --kind test --state submitted --json"),
        ],
    ),
    (
        "kbridge-plans",
        &[
            ("The latest plans, with how many of their jobs are done:", "kbridge plans --limit 10"),
            ("The plans whose callback has not come, for a script:", "kbridge plans --json | jq '.[] | select(.state == \"submitted\") | .uid'"),
        ],
    ),
    (
        "kbridge-show",
        &[
            ("One job by kbridge's id or the runner's uid:", "kbridge show 2ZITcwA6wxeKxh9cZA5HBJ6FkSj"),
            ("Its latest state, for a script:", "kbridge show 1 --json | jq -r .state"),
        ],
    ),
    (
        "kbridge-listen",
        &[
            ("Listen on every interface with TuxSuite's key:", "kbridge listen --bind 0.0.0.0:8080 --tuxsuite-public-key tuxsuite.pub"),
            ("Health and metrics on a separate, private address:", "kbridge listen --bind 0.0.0.0:8080 --ops-bind 127.0.0.1:9090 --tuxsuite-public-key tuxsuite.pub"),
        ],
    ),
    (
        "kbridge-results",
        &[
            ("A job's KCIDB document:", "kbridge results 1"),
            ("The document itself, for a script:", "kbridge results 1 --json > doc.json"),
        ],
    ),
    (
        "kbridge-artefacts",
        &[
            ("What a build produced:", "kbridge artefacts 1"),
            ("Fetch it all into ./out/UID/:", "kbridge artefacts 1 --download out"),
        ],
    ),
    (
        "kbridge-track",
        &[
            ("Follow a test started with the tuxsuite client:", "kbridge track 2ZITcwA6wxeKxh9cZA5HBJ6FkSj"),
            ("Then wait for its KCIDB document:", "kbridge wait"),
        ],
    ),
    (
        "kbridge-cancel",
        &[
            ("Cancel two jobs:", "kbridge cancel 3 4"),
            ("Then follow them to their end:", "kbridge wait 3 4"),
            ("Cancel what is left of a plan:", "kbridge cancel --plan 2Zk00052rdUGExAcikZAlwCOacI"),
        ],
    ),
    (
        "kbridge-logs",
        &[
            ("A build's log, or a test's console:", "kbridge logs 3"),
            ("A test's whole LAVA log, as the runner keeps it:", "kbridge logs 3 --raw > lava-logs.yaml"),
        ],
    ),
    (
        "kbridge-inbox",
        &[
            ("The latest callbacks:", "kbridge inbox --limit 20"),
            ("Process callback 12 again:", "kbridge inbox replay 12"),
        ],
    ),
    (
        "kbridge-inbox-replay",
        &[("Process callback 12 again:", "kbridge inbox replay 12")],
    ),
    (
        "kbridge-inbox-prune",
        &[
            ("What would go:", "kbridge inbox prune --older-than 30d --dry-run"),
            ("Remove it:", "kbridge inbox prune --older-than 30d"),
        ],
    ),
    (
        "kbridge-submit",
        &[
            ("Send everything pending to KCIDB:", "KCIDB_REST=https://TOKEN@db.kernelci.org kbridge submit"),
            ("Check and send a document made elsewhere:", "kbridge submit --file doc.json"),
        ],
    ),
    (
        "kbridge-outbox",
        &[
            ("Documents KCIDB refused:", "kbridge outbox --state failed"),
            ("Send one again:", "kbridge outbox retry 3"),
        ],
    ),
    (
        "kbridge-outbox-retry",
        &[("Send document 3 again:", "kbridge outbox retry 3")],
    ),
    (
        "kbridge-outbox-check",
        &[
            ("Ask KCIDB whether it ingested what was submitted:", "kbridge outbox check"),
            ("For a script:", "kbridge outbox check --json"),
        ],
    ),
    (
        "kbridge-wait",
        &[
            ("Wait for every unfinished job, at most an hour:", "kbridge wait --timeout 1h"),
            ("In a script, keep the verdict and its exit status:", "kbridge wait 1 2 3 --json > verdict.json"),
        ],
    ),
    (
        "kbridge-report",
        &[("Queue a lab's results for KCIDB:", "kbridge report results.json")],
    ),
    (
        "kbridge-config",
        &[
            ("Every setting and where it came from:", "kbridge config"),
            ("For a script:", "kbridge config --json"),
        ],
    ),
    (
        "kbridge-doctor",
        &[
            ("Check the setup:", "kbridge doctor"),
            ("For monitoring:", "kbridge doctor --json"),
        ],
    ),
    (
        "kbridge-store",
        &[(
            "Bring an existing record to PostgreSQL:",
            "kbridge store copy --from ~/.local/share/kbridge/kbridge.db --to postgresql://kbridge@db.example.org/kbridge",
        )],
    ),
    (
        "kbridge-store-copy",
        &[
            (
                "Bring an existing record to PostgreSQL:",
                "kbridge store copy --from ~/.local/share/kbridge/kbridge.db --to postgresql://kbridge@db.example.org/kbridge",
            ),
            (
                "And back to a file:",
                "kbridge store copy --from postgresql://kbridge@db.example.org/kbridge --to kbridge.db",
            ),
        ],
    ),
];

/// Variables read by commands that talk to TuxSuite, besides kbridge's own.
const TUXSUITE_ENV: &[(&str, &str)] = &[
    (
        "TUXSUITE_TOKEN",
        "the TuxSuite API token (otherwise token= in the tuxsuite client's config.ini)",
    ),
    (
        "TUXSUITE_GROUP, TUXSUITE_PROJECT",
        "the TuxSuite group and project (otherwise from config.ini, or asked of the auth service)",
    ),
    (
        "TUXAPI_URL",
        "the TuxSuite API (default https://tuxapi.tuxsuite.com)",
    ),
    (
        "TUXSUITE_CONFIG",
        "the tuxsuite client's config file (default $XDG_CONFIG_HOME/tuxsuite/config.ini)",
    ),
    (
        "TUXSUITE_ENV",
        "the section of that file to read (default: default)",
    ),
];

/// The pages whose commands talk to TuxSuite.
const TUXSUITE_PAGES: &[&str] = &[
    "kbridge-schedule-plan",
    "kbridge-artefacts",
    "kbridge-track",
    "kbridge-cancel",
    "kbridge-logs",
    "kbridge-schedule",
    "kbridge-schedule-build",
    "kbridge-schedule-test",
    "kbridge-schedule-boot",
    "kbridge-listen",
    "kbridge-wait",
    "kbridge-config",
    "kbridge-doctor",
];

/// Variables every command honours.
const GENERAL_ENV: &[(&str, &str)] = &[
    (
        "XDG_CONFIG_HOME",
        "where config.toml is looked for (default ~/.config)",
    ),
    (
        "XDG_DATA_HOME",
        "where the database lives by default (default ~/.local/share)",
    ),
];

/// The settings a command takes, by the command path in its page name.
fn settings_env(page: &str) -> Vec<(String, String)> {
    let path = page
        .strip_prefix("kbridge")
        .unwrap_or_default()
        .replace('-', " ");
    let path = path.trim();
    let applies = |on: &str| {
        on.is_empty()
            || on == path
            || on
                .strip_suffix(" *")
                .is_some_and(|parent| path.starts_with(parent) && path != parent)
    };
    let mut out = Vec::new();
    for def in crate::registry::Registry::builtin().settings() {
        let (Some(env), Some(flag)) = (def.env, def.flag) else {
            continue;
        };
        if flag.on.iter().any(|on| applies(on)) {
            out.push((env.to_string(), format!("as --{}", flag.long)));
        }
    }
    out
}

/// The extra sections of one page, in roff.
fn extra_sections(page: &str) -> String {
    let mut roff = Roff::new();
    let statuses = crate::error::exit::of_page(page);
    roff.control("SH", ["EXIT STATUS"]);
    for (code, what) in statuses {
        roff.control("TP", []);
        roff.text([bold(code.to_string())]);
        roff.text([roman(what)]);
    }

    let mut env: Vec<(String, String)> = settings_env(page);
    if TUXSUITE_PAGES.contains(&page) {
        env.extend(
            TUXSUITE_ENV
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
    }
    if matches!(page, "kbridge-listen" | "kbridge-submit" | "kbridge-doctor") {
        env.push((
            "KCIDB_REST".into(),
            "KCIDB's REST URL with the token as its user part, as KernelCI's tools take it".into(),
        ));
    }
    if page == "kbridge-listen" {
        env.push((
            "CREDENTIALS_DIRECTORY".into(),
            "under systemd: tuxsuite.pub, tuxsuite-token and kcidb-token are read from here".into(),
        ));
    }
    env.extend(
        GENERAL_ENV
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, what) in env {
        roff.control("TP", []);
        roff.text([bold(name)]);
        roff.text([roman(what)]);
    }

    if let Some((_, examples)) = EXAMPLES.iter().find(|(p, _)| *p == page) {
        roff.control("SH", ["EXAMPLES"]);
        for (i, (what, command)) in examples.iter().enumerate() {
            if i > 0 {
                roff.control("PP", []);
            }
            roff.text([roman(*what)]);
            // Unfilled, so the command is not justified or hyphenated.
            roff.control("RS", ["4"]);
            roff.control("nf", []);
            roff.text([roman(*command)]);
            roff.control("fi", []);
            roff.control("RE", []);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "kbridge(1); the README and docs/ in kbridge's source for the configuration, the listener and the runners",
    )]);
    roff.to_roff()
}

/// Every visible page: its name and its command.
fn pages(cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
    let name = cmd
        .get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages(sub, out);
    }
    out.push((name, cmd.clone()));
}

/// The SYNOPSIS section, with each option's value placeholder
/// (`--tree URL`, not just `--tree`): optional options in brackets,
/// required ones bare, a required choice in parentheses, repeatable ones
/// followed by `...`.
fn synopsis(cmd: &clap::Command) -> String {
    use roff::italic;
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
    let option = |arg: &clap::Arg| {
        let mut out = Vec::new();
        let long = arg.get_long().map(|l| format!("--{l}"));
        let short = arg.get_short().map(|c| format!("-{c}"));
        let flag = match (short, long) {
            (Some(s), Some(l)) => format!("{s}|{l}"),
            (s, l) => s.or(l).unwrap_or_default(),
        };
        out.push(bold(flag));
        if arg.get_action().takes_values() {
            let value = arg
                .get_value_names()
                .map(|v| v.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|| arg.get_id().as_str().to_ascii_uppercase());
            out.push(roman(" "));
            out.push(italic(value));
        }
        out
    };
    let repeated = |arg: &clap::Arg| {
        matches!(
            arg.get_action(),
            clap::ArgAction::Append | clap::ArgAction::Count
        )
    };
    let groups: Vec<Vec<&clap::Arg>> = cmd
        .get_groups()
        .filter(|g| g.is_required_set())
        .map(|g| {
            g.get_args()
                .filter_map(|id| cmd.get_arguments().find(|a| a.get_id() == id))
                .collect()
        })
        .collect();
    let in_group = |arg: &clap::Arg| groups.iter().flatten().any(|g| g.get_id() == arg.get_id());
    let mut line = vec![bold(name)];
    let opts: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional() && !in_group(a))
        .collect();
    for required in [false, true] {
        for arg in opts.iter().filter(|a| a.is_required_set() == required) {
            line.push(roman(if required { " " } else { " [" }));
            line.extend(option(arg));
            if !required {
                line.push(roman("]"));
            }
            if repeated(arg) {
                line.push(roman("..."));
            }
        }
    }
    for members in &groups {
        line.push(roman(" ("));
        for (i, arg) in members.iter().enumerate() {
            if i > 0 {
                line.push(roman(" | "));
            }
            line.extend(option(arg));
        }
        line.push(roman(")"));
    }
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let value = arg
            .get_value_names()
            .map(|v| v.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| arg.get_id().as_str().to_ascii_uppercase());
        line.push(roman(if arg.is_required_set() { " " } else { " [" }));
        line.push(italic(value));
        if !arg.is_required_set() {
            line.push(roman("]"));
        }
        if repeated(arg) {
            line.push(roman("..."));
        }
    }
    if cmd.has_subcommands() {
        line.push(roman(" "));
        line.push(italic("COMMAND"));
    }
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    roff.text(line);
    roff.to_roff()
}

/// One man page: clap's sections, then ours before VERSION.
fn page(name: &str, cmd: clap::Command) -> Vec<u8> {
    let cmd_for_synopsis = cmd.clone();
    let man = clap_mangen::Man::new(cmd)
        .date(MANUAL_DATE)
        .source(format!("kbridge {}", env!("CARGO_PKG_VERSION")))
        .manual("kbridge manual");
    let mut out = Vec::new();
    man.render(&mut out).expect("rendering to memory");
    // clap_mangen separates a help line from its value list with a blank
    // line between two breaks, which linters flag; one `.sp` says it.
    let mut text = String::from_utf8(out)
        .expect("roff is UTF-8")
        .replace("\n.br\n\n.br\n", "\n.sp\n");
    if let (Some(start), Some(end)) = (text.find(".SH SYNOPSIS\n"), text.find(".SH DESCRIPTION\n"))
    {
        text.replace_range(start..end, &synopsis(&cmd_for_synopsis));
    }
    let extra = extra_sections(name);
    match text.find("\n.SH VERSION") {
        Some(at) => text.insert_str(at + 1, &extra),
        None => text.push_str(&extra),
    }
    text.into_bytes()
}

/// Writes the completions and man pages into `dir`.
fn generate(dir: &Path) {
    let completions = dir.join("completions");
    let man = dir.join("man");
    std::fs::create_dir_all(&completions).unwrap();
    std::fs::create_dir_all(&man).unwrap();
    for shell in SHELLS {
        clap_complete::generate_to(shell, &mut cli::command(), "kbridge", &completions).unwrap();
    }
    let mut cmd = cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut all = Vec::new();
    pages(&cmd, &mut all);
    for (name, cmd) in all {
        std::fs::write(man.join(format!("{name}.1")), page(&name, cmd)).unwrap();
    }
}

#[test]
fn every_page_has_examples_and_every_example_a_page() {
    let mut cmd = cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut all = Vec::new();
    pages(&cmd, &mut all);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    for name in &names {
        assert!(
            EXAMPLES.iter().any(|(p, _)| p == name),
            "{name} has no examples"
        );
    }
    for (page, _) in EXAMPLES {
        assert!(
            names.contains(page),
            "examples for {page}, which is no page"
        );
    }
    let listen = String::from_utf8(page("kbridge-listen", cmd.clone())).unwrap();
    for section in ["EXIT STATUS", "ENVIRONMENT", "EXAMPLES", "KBRIDGE_BIND"] {
        assert!(listen.contains(section), "{section} missing");
    }
    assert!(listen.contains("\"kbridge 0.1.0\"") || listen.contains("kbridge "));
    assert!(!names.contains(&"kbridge-generate"));
}

#[test]
fn every_example_is_a_command_line_kbridge_accepts() {
    for (page, examples) in EXAMPLES {
        for (_, line) in *examples {
            // The command itself: no variables before it, no redirection.
            let words: Vec<&str> = line
                .split_whitespace()
                .skip_while(|w| w.contains('=') && !w.starts_with('-'))
                .take_while(|w| !matches!(*w, ">" | "|" | "||" | "&&"))
                // URL is the pages' placeholder for any artefact URL.
                .map(|w| {
                    if w == "URL" {
                        "https://storage.example/Image"
                    } else {
                        w
                    }
                })
                .collect();
            assert_eq!(words.first(), Some(&"kbridge"), "{page}: {line}");
            if let Err(e) = cli::parse_from(words) {
                panic!("{page}: {line}: {e}");
            }
        }
    }
}

#[test]
fn completions_offer_values_not_file_names() {
    let mut out = Vec::new();
    clap_complete::generate(Shell::Fish, &mut cli::command(), "kbridge", &mut out);
    let fish = String::from_utf8(out).unwrap();
    let line = |flag: &str, sub: &str| {
        // One `complete` command may span lines (its value list).
        fish.split("\ncomplete ")
            .find(|l| l.contains(&format!("-l {flag} ")) && l.contains(sub))
            .unwrap_or_else(|| panic!("no completion for --{flag}"))
            .to_string()
    };
    for (flag, sub, value) in [
        ("state", "jobs", "errored"),
        ("kind", "jobs", "boot"),
        ("runner", "from test", "tuxsuite"),
        ("device", "from test", "qemu-arm64"),
        ("toolchain", "from build", "clang-18"),
    ] {
        let l = line(flag, sub);
        assert!(l.contains(" -f ") && l.contains(value), "--{flag}: {l}");
    }
    assert!(
        !fish.contains("generate"),
        "hidden commands are not offered"
    );
}

/// The committed completions and man pages match the CLI. Run with
/// `KBRIDGE_UPDATE_GENERATED=1` to rewrite them.
#[test]
fn generated_files_are_current() {
    let out = std::env::temp_dir().join(format!("kbridge-generated-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    generate(&out);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("KBRIDGE_UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for sub in ["completions", "man"] {
        let fresh_dir = out.join(sub);
        let committed_dir = repo.join(sub);
        let mut names: Vec<_> = std::fs::read_dir(&fresh_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        if update {
            let _ = std::fs::remove_dir_all(&committed_dir);
            std::fs::create_dir_all(&committed_dir).unwrap();
        }
        for name in &names {
            let fresh = std::fs::read(fresh_dir.join(name)).unwrap();
            let committed_path = committed_dir.join(name);
            if update {
                std::fs::write(&committed_path, &fresh).unwrap();
            } else if std::fs::read(&committed_path).ok().as_deref() != Some(&fresh[..]) {
                stale.push(format!("{sub}/{}", name.to_string_lossy()));
            }
        }
        let committed = std::fs::read_dir(&committed_dir)
            .map(|d| d.count())
            .unwrap_or(0);
        if committed != names.len() {
            stale.push(format!(
                "{sub}/ has {committed} files, expected {}",
                names.len()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        stale.is_empty(),
        "stale generated files: {stale:?}\nregenerate with: KBRIDGE_UPDATE_GENERATED=1 cargo test generated_files_are_current"
    );
}

#[test]
fn exit_statuses_agree_with_the_readme() {
    let readme = include_str!("../README.md");
    use crate::error::exit;
    for (code, what) in exit::COMMON.iter().filter(|(c, _)| *c != exit::SUCCESS) {
        let row = format!("| {code} | {what} |");
        assert!(readme.contains(&row), "README lacks: {row}");
    }
    for (code, what) in exit::VERDICT {
        let row = format!("| {code} | {what} |");
        assert!(readme.contains(&row), "README's wait table lacks: {row}");
    }
    // Every page names 130, and the verdict pages 1 as a FAIL.
    let wait = exit::of_page("kbridge-wait");
    assert!(wait.iter().any(|(c, _)| *c == exit::INTERRUPTED));
    assert!(wait
        .iter()
        .any(|(c, w)| *c == exit::FAILURE && w.contains("nothing else")));
}
