//! A program run on a real pseudo-terminal (util-linux `script`), and the
//! screen it leaves, read the way a terminal draws it: enough of VT100 for
//! what indicatif writes (carriage return, line feed, cursor up and down,
//! erase in line and in display; colours and cursor visibility ignored).

use std::process::Command;

use super::env::Env;

/// The screen: one string per row, trailing spaces trimmed.
pub fn screen(raw: &[u8], cols: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let mut rows: Vec<Vec<char>> = vec![vec![]];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    let ensure = |rows: &mut Vec<Vec<char>>, row: usize| {
        while rows.len() <= row {
            rows.push(vec![]);
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                ensure(&mut rows, row);
            }
            '\x1b' => {
                if chars.peek() != Some(&'[') {
                    chars.next();
                    continue;
                }
                chars.next();
                let mut params = String::new();
                let mut cmd = ' ';
                for p in chars.by_ref() {
                    if p.is_ascii_alphabetic() {
                        cmd = p;
                        break;
                    }
                    params.push(p);
                }
                let n: usize = params.trim_start_matches('?').parse().unwrap_or(1);
                match cmd {
                    'A' => row = row.saturating_sub(n.max(1)),
                    'B' => {
                        row += n.max(1);
                        ensure(&mut rows, row);
                    }
                    'G' => col = n.saturating_sub(1),
                    'K' => match params.as_str() {
                        "" | "0" => rows[row].truncate(col),
                        "1" => {
                            for c in rows[row].iter_mut().take(col + 1) {
                                *c = ' ';
                            }
                        }
                        _ => rows[row].clear(),
                    },
                    'J' => {
                        rows[row].truncate(col);
                        rows.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            c if c.is_control() => {}
            c => {
                if col >= cols {
                    row += 1;
                    col = 0;
                    ensure(&mut rows, row);
                }
                let line = &mut rows[row];
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
    }
    rows.into_iter()
        .map(|r| r.into_iter().collect::<String>().trim_end().to_string())
        .collect()
}

/// Runs `kbridge ARGS` on a pseudo-terminal of `cols` columns, after
/// `before` (a shell command such as `timeout -s INT 2`, or nothing), and
/// returns everything the terminal was sent.
pub fn on_terminal(env: &Env, cols: usize, before: &str, args: &[&str]) -> Vec<u8> {
    let command = format!(
        "stty cols {cols} rows 60; exec {before} {} {}",
        env!("CARGO_BIN_EXE_kbridge"),
        args.join(" ")
    );
    let out = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env_clear()
        .envs(&env.vars)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .current_dir(env.dir.path())
        .output()
        .expect("util-linux script runs a program on a pseudo-terminal");
    out.stdout
}
