//! The import graph: each module imports only modules below it in
//! [`ORDER`], so there is no cycle and nothing imports upward. Checked
//! over the source itself, leaving out comments and test-only code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// kbridge's modules, from the bottom up (main.rs's layout comment names
/// each).
const ORDER: &[&str] = &[
    "clock",
    "metrics",
    "retry",
    "urls",
    "yaml",
    "secrets",
    "model",
    "location",
    "http",
    "log",
    "config",
    "runner",
    "kcidb",
    "store",
    "patches",
    "githead",
    "report",
    "registry",
    "scheduler",
    "download",
    "progress",
    "error",
    "outcome",
    "pipeline",
    "listen",
    "cli",
    "commands",
];

/// Modules that exist only for the tests.
const TEST_ONLY: &[&str] = &["manual", "layers"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without comments and without the bodies of modules
/// declared `#[cfg(test)]`; also the names of test-only module files it
/// declares (`#[cfg(test)] mod NAME;`).
fn code_of(text: &str) -> (String, Vec<String>) {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string (a URL) is not a comment.
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect();
    let mut out = String::new();
    let mut test_files = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line == "#[cfg(test)]" {
            let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
            let decl = next.trim_start_matches("pub ");
            if let Some(name) = decl.strip_prefix("mod ").and_then(|m| m.strip_suffix(';')) {
                test_files.push(name.to_string());
                i += 2;
                continue;
            }
            if decl.starts_with("mod ") && decl.ends_with('{') {
                // Skip to the matching brace.
                let mut depth = 0i32;
                i += 1;
                while i < lines.len() {
                    depth += lines[i].matches('{').count() as i32;
                    depth -= lines[i].matches('}').count() as i32;
                    i += 1;
                    if depth <= 0 {
                        break;
                    }
                }
                continue;
            }
        }
        out.push_str(lines[i]);
        out.push('\n');
        i += 1;
    }
    (out, test_files)
}

/// The top-level modules a piece of code names.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for part in group.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

/// Every module's imports of other modules, test code left out.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut code = BTreeMap::new();
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for file in &files {
        let (text, tests) = code_of(&std::fs::read_to_string(file).unwrap());
        let dir = match file.file_name().unwrap().to_str().unwrap() {
            "mod.rs" | "main.rs" => file.parent().unwrap().to_path_buf(),
            _ => file.with_extension(""),
        };
        for name in tests {
            test_only.insert(dir.join(format!("{name}.rs")));
            test_only.insert(dir.join(&name));
        }
        code.insert(file.clone(), text);
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in &code {
        if test_only.iter().any(|t| file.starts_with(t)) {
            continue;
        }
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || TEST_ONLY.contains(&top.as_str()) {
            continue;
        }
        let entry = graph.entry(top.clone()).or_default();
        for m in imports(text) {
            if m != top && !m.is_empty() {
                entry.insert(m);
            }
        }
    }
    graph
}

#[test]
fn every_module_imports_only_modules_below_it() {
    let graph = graph();
    for module in graph.keys() {
        assert!(
            ORDER.contains(&module.as_str()),
            "module {module} is not in layers::ORDER"
        );
    }
    for module in ORDER {
        assert!(
            graph.contains_key(*module),
            "{module} is gone: take it out of ORDER"
        );
    }
    let rank = |m: &str| ORDER.iter().position(|o| *o == m);
    let mut upward = Vec::new();
    for (module, deps) in &graph {
        for dep in deps {
            match (rank(module), rank(dep)) {
                (Some(a), Some(b)) if b >= a => upward.push(format!("{module} -> {dep}")),
                _ => {}
            }
        }
    }
    assert!(upward.is_empty(), "imports upward: {upward:?}");
}

#[test]
fn the_check_sees_imports_and_skips_comments_and_tests() {
    let (code, tests) = code_of(
        "use crate::{model, store::Db};\n// crate::commands\n#[cfg(test)]\nmod tests {\n    use crate::cli;\n}\n#[cfg(test)]\nmod fourth;\nfn f() { crate::http::agent(); }\n",
    );
    assert_eq!(tests, ["fourth"]);
    let found: Vec<String> = imports(&code).into_iter().collect();
    assert_eq!(found, ["http", "model", "store"]);
}
