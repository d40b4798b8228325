//! `kbridge generate`: shell completions and man pages, rendered from the
//! clap definitions so they never drift from `--help`. The committed copies
//! in `completions/` and `man/` are checked against this by a test.

use std::path::Path;

use clap_complete::Shell;

use crate::cli::{self, GenerateArgs};
use crate::error::Error;

/// The shells kbridge ships completions for.
const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

pub fn run(args: GenerateArgs) -> Result<(), Error> {
    let io = |what: &str, dir: &Path| {
        let context = format!("cannot write {what} into {}", dir.display());
        move |e: std::io::Error| Error::io(context, &e)
    };
    let completions = args.out_dir.join("completions");
    let man = args.out_dir.join("man");
    std::fs::create_dir_all(&completions).map_err(io("completions", &completions))?;
    std::fs::create_dir_all(&man).map_err(io("man pages", &man))?;
    for shell in SHELLS {
        clap_complete::generate_to(shell, &mut cli::command(), "kbridge", &completions)
            .map_err(io("completions", &completions))?;
    }
    clap_mangen::generate_to(cli::command(), &man).map_err(io("man pages", &man))?;
    Ok(())
}
