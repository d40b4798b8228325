//! YAML that comes from outside kbridge (plan files, LAVA job definitions,
//! a lab's per-case metadata), read with its nesting checked first.
//!
//! The parser takes time that grows with the square of the nesting (400 KB
//! of `[` took 81 s), so nesting is measured on the raw text, in one linear
//! pass, before the parser sees it. The measure errs high, never low: it
//! adds block indentation levels, compact `- - -` sequences and flow
//! brackets, skipping comments, quoted scalars and block scalars, so a real
//! document (a job definition is rarely ten levels deep) passes and a
//! hostile one is refused in microseconds.

use serde::de::DeserializeOwned;

/// The deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// Parses `text` after checking its nesting; the error names the line
/// where nesting went past [`MAX_DEPTH`], or the parser's complaint.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, yaml_serde::Error> {
    if let Err(line) = check_depth(text, MAX_DEPTH) {
        return Err(serde::de::Error::custom(format!(
            "it nests deeper than {MAX_DEPTH} levels (at line {line}); kbridge reads YAML at most {MAX_DEPTH} levels deep"
        )));
    }
    yaml_serde::from_str(text)
}

/// Where a quoted scalar is, while scanning.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

/// `Err(line)` when `text` nests deeper than `max` (1-based line).
pub fn check_depth(text: &str, max: usize) -> Result<(), usize> {
    // Indentations of the open block nodes.
    let mut blocks: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote = Quote::None;
    // The indentation of the node a block scalar belongs to, while inside
    // one: lines indented more are its text.
    let mut scalar_of: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if let Some(parent) = scalar_of {
            if rest.trim().is_empty() || indent > parent {
                continue;
            }
            scalar_of = None;
        }
        if quote == Quote::None && flow == 0 {
            if rest.trim().is_empty() || rest.starts_with('#') {
                continue;
            }
            while blocks.last().is_some_and(|&b| b >= indent) {
                blocks.pop();
            }
            blocks.push(indent);
        }
        // Compact nested nodes on this line (`- - x`).
        let mut compact = 0;
        // A node may start here (after indentation, `- `, `: `, `? `, or
        // inside a flow collection after `[`, `{` and `,`).
        let mut node_start = true;
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match quote {
                Quote::Single => {
                    if c == '\'' {
                        if chars.peek().map(|(_, c)| *c) == Some('\'') {
                            chars.next();
                        } else {
                            quote = Quote::None;
                        }
                    }
                    continue;
                }
                Quote::Double => {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => quote = Quote::None,
                        _ => {}
                    }
                    continue;
                }
                Quote::None => {}
            }
            let next = chars.peek().map(|(_, c)| *c);
            let ends_indicator = next.is_none_or(|c| c == ' ' || c == '\t');
            match c {
                '#' if i == 0 || rest[..i].ends_with([' ', '\t']) => break,
                ' ' | '\t' => continue,
                '-' | '?' if node_start && flow == 0 && ends_indicator => {
                    compact += 1;
                    continue;
                }
                ':' if ends_indicator || flow > 0 => {
                    node_start = true;
                    continue;
                }
                '[' | '{' if node_start || flow > 0 => {
                    flow += 1;
                    node_start = true;
                }
                ']' | '}' if flow > 0 => {
                    flow -= 1;
                    node_start = false;
                }
                ',' if flow > 0 => node_start = true,
                '\'' if node_start => {
                    quote = Quote::Single;
                    node_start = false;
                }
                '"' if node_start => {
                    quote = Quote::Double;
                    node_start = false;
                }
                '|' | '>' if node_start && flow == 0 => {
                    let header = rest[i + 1..].split('#').next().unwrap_or("").trim();
                    if header.chars().all(|c| matches!(c, '+' | '-' | '1'..='9')) {
                        scalar_of = Some(indent);
                    }
                    break;
                }
                '&' | '!' if node_start => {
                    // An anchor or a tag before the node: skip its name.
                    while chars.peek().is_some_and(|(_, c)| !matches!(c, ' ' | '\t')) {
                        chars.next();
                    }
                }
                _ => node_start = false,
            }
            if blocks.len() + compact + flow > max {
                return Err(n);
            }
        }
        if blocks.len() + compact + flow > max {
            return Err(n);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_of_every_kind_is_refused_at_once() {
        let flow = "[".repeat(200_000);
        assert_eq!(check_depth(&flow, MAX_DEPTH), Err(1));
        let mapping = "{a: ".repeat(100_000);
        assert_eq!(check_depth(&mapping, MAX_DEPTH), Err(1));
        let dashes = "- ".repeat(200_000) + "x";
        assert_eq!(check_depth(&dashes, MAX_DEPTH), Err(1));
        let block: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(check_depth(&block, MAX_DEPTH), Err(MAX_DEPTH + 1));
        let e = parse::<yaml_serde::Value>(&flow).unwrap_err().to_string();
        assert!(e.contains("nests deeper than 64 levels (at line 1)"), "{e}");
    }

    #[test]
    fn ordinary_documents_pass() {
        let def = "device_type: qemu\njob_name: 'it''s [a] {job}'\n# [[[[ comment\ntimeouts:\n  job: {minutes: 30}\nactions:\n- deploy:\n    to: tmpfs\n    images:\n      kernel: {url: \"http://x/[y]\"}\n- test:\n    definitions:\n    - repository:\n        run:\n          steps:\n          - echo [[[[ { unbalanced\n          - |\n            [ -e /x ] && { echo ok; }\n            [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n          - done\n";
        assert_eq!(check_depth(def, MAX_DEPTH), Ok(()));
        let v: yaml_serde::Value = parse(def).unwrap();
        assert_eq!(v["device_type"], "qemu");
        let nested = "a: [[[[[[[[[[1]]]]]]]]]]\n";
        assert_eq!(check_depth(nested, MAX_DEPTH), Ok(()));
        assert_eq!(check_depth(nested, 5), Err(1));
    }
}
