//! The layering, checked by reading the source: no module imports a layer above it, and
//! handlers neither call the store nor publish changes (docs/architecture.md).
//!
//! A source scan, not a compiler pass: it reads every `crate::` path in code (comments and
//! strings blanked, `use crate::{a, b::{c, d}}` groups expanded) and the `.store.` / `.feed.`
//! field chains of handlers. What remains on purpose is in [`ALLOWED`], each with a reason.
//!
//! About 380 lines: the scanner (comment stripping, `use` group expansion) and its self-test.

use std::path::{Path, PathBuf};

/// Which files a rule covers, and the `crate::` paths they may not use.
struct Rule {
    /// Its letter and name, for the failure message.
    name: &'static str,
    /// Files under these prefixes (relative to `src/`, `/`-separated) are covered.
    files: &'static [&'static str],
    /// Module paths (below `crate::`) they may not name; `a::b` covers `a::b::…` too.
    forbidden: &'static [&'static str],
    /// Paths that stay allowed although a forbidden prefix covers them.
    except: &'static [&'static str],
    /// Text in code that counts as a violation (store calls, change publishes).
    patterns: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        name: "(a) the store imports nothing above it",
        files: &["store/"],
        forbidden: &[
            "api",
            "services",
            "checkins",
            "support",
            "catalog",
            "changes",
            "state",
            "startup",
            "demo",
            "console",
            "weather",
            "limits",
            "habits",
            "people::gate",
            "people::erasure",
        ],
        except: &[],
        patterns: &[],
    },
    Rule {
        name: "(b) hot state imports only redis_conns, metrics, clock and domain",
        files: &[
            "limits/",
            "habits/",
            "people/gate",
            "weather/",
            "redis_conns.rs",
        ],
        forbidden: &[
            "store", "services", "api", "state", "checkins", "support", "catalog",
        ],
        except: &[],
        patterns: &[],
    },
    Rule {
        name: "(c) models import no use case, store or handler",
        files: &[
            "domain/",
            "fences/",
            "offers/",
            "events/",
            "decisions/",
            "audit/",
            "auth/",
            "webhooks/",
            "clock.rs",
        ],
        forbidden: &["api", "services", "state", "store", "checkins", "support"],
        except: &[],
        patterns: &[],
    },
    Rule {
        name: "(d) handlers (the API, the console), the demo and the simulation call services, not the store or the change feed",
        files: &["api/", "console/", "demo.rs", "simulate/"],
        forbidden: &["store", "changes"],
        except: &["store::StoreError", "store::StoreResult"],
        patterns: &[".store.", ".feed.", "store::Store", "Change::"],
    },
    Rule {
        name: "(e) services sit below the handlers",
        files: &["services/"],
        forbidden: &["api", "state", "startup", "demo", "console", "cli"],
        except: &[],
        patterns: &[],
    },
    Rule {
        name: "(f) only the use cases (services, the check-in decision) reach the store",
        files: &[
            "support/",
            "catalog.rs",
            "changes.rs",
            "cli.rs",
            "drain.rs",
            "error.rs",
            "metrics.rs",
            "settings.rs",
            "telemetry.rs",
            "redis_conns.rs",
        ],
        forbidden: &["store"],
        except: &["store::StoreError", "store::StoreResult"],
        patterns: &[".store.", "store::Store"],
    },
];

/// Known exceptions: (file, text of the offending path or pattern, why it stays).
const ALLOWED: &[(&str, &str, &str)] = &[
    // An entry is (file under src/, the path or pattern it may use, why).
    (
        "catalog.rs",
        "store",
        "the in-memory catalog loads fences and offers from the store at start and re-reads \
         what the change feed names: reads only, never a write",
    ),
];

/// One broken rule.
#[derive(Debug, PartialEq)]
struct Violation {
    file: String,
    line: usize,
    what: String,
    rule: &'static str,
}

/// `src` with comments and the contents of string literals blanked out, lines kept, so only
/// code is scanned.
fn strip_comments(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let blank = |s: &str| -> String {
        s.chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect()
    };
    let mut i = 0;
    while i < b.len() {
        let rest = &src[i..];
        let after_ident = i > 0 && is_ident(src[..i].chars().next_back().unwrap());
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if let Some(inner) = rest.strip_prefix("/*") {
            let end = inner.find("*/").map_or(rest.len(), |e| e + 4);
            out.push_str(&blank(&rest[..end]));
            i += end;
        } else if rest.starts_with("'\"'") {
            out.push_str("' '");
            i += 3;
        } else if rest.starts_with("'\\\"'") {
            out.push_str("'  '");
            i += 4;
        } else if !after_ident && (rest.starts_with("r\"") || rest.starts_with("r#")) {
            let hashes = rest[1..].chars().take_while(|c| *c == '#').count();
            if rest[1 + hashes..].starts_with('"') {
                let close = format!("\"{}", "#".repeat(hashes));
                let body = 2 + hashes;
                let end = rest[body..]
                    .find(&close)
                    .map_or(rest.len(), |e| body + e + close.len());
                out.push_str(&blank(&rest[..end]));
                i += end;
            } else {
                out.push('r');
                i += 1;
            }
        } else if rest.starts_with('"') {
            let mut j = 1;
            let rb = rest.as_bytes();
            while j < rb.len() && rb[j] != b'"' {
                j += if rb[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            out.push_str(&blank(&rest[..end]));
            i += end;
        } else {
            let ch = rest.chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Expands the path that starts at `s` (just after `crate::`): `a::b`, `a::{b, c::{d}}`,
/// returning each full path and how many bytes were read.
fn expand(s: &str, prefix: &str, out: &mut Vec<String>) -> usize {
    let mut i = 0;
    let mut path = prefix.to_string();
    loop {
        let rest = &s[i..];
        let trimmed = rest.trim_start();
        i += rest.len() - trimmed.len();
        if trimmed.starts_with('{') {
            i += 1;
            loop {
                let rest = &s[i..];
                let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
                i += rest.len() - trimmed.len();
                if trimmed.is_empty() {
                    return i;
                }
                if trimmed.starts_with('}') {
                    return i + 1;
                }
                let before = i;
                i += expand(&s[i..], &path, out);
                if i == before {
                    i += trimmed.chars().next().map_or(1, char::len_utf8);
                }
            }
        }
        let ident: String = trimmed.chars().take_while(|c| is_ident(*c)).collect();
        if ident.is_empty() {
            if path != prefix || !prefix.is_empty() {
                out.push(path);
            }
            return i;
        }
        i += ident.len();
        if !path.is_empty() {
            path.push_str("::");
        }
        path.push_str(&ident);
        if s[i..].starts_with("::") {
            i += 2;
        } else {
            out.push(path);
            return i;
        }
    }
}

/// Every `crate::` path in `code` (comments already stripped), with its 1-based line.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::") {
        let start = from + at;
        let line = code[..start].matches('\n').count() + 1;
        let boundary = code[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c));
        let body = start + "crate::".len();
        if boundary {
            let mut paths = Vec::new();
            let read = expand(&code[body..], "", &mut paths);
            found.extend(paths.into_iter().map(|p| (line, p)));
            from = body + read.max(1);
        } else {
            from = body;
        }
    }
    found
}

fn covers(module: &str, path: &str) -> bool {
    path == module || path.starts_with(&format!("{module}::"))
}

/// The violations of `rel` (a file path relative to `src/`) with content `src`.
fn check(rel: &str, src: &str) -> Vec<Violation> {
    let code = strip_comments(src);
    let mut found = Vec::new();
    for rule in RULES
        .iter()
        .filter(|r| r.files.iter().any(|f| rel.starts_with(f)))
    {
        for (line, path) in crate_paths(&code) {
            let bad = rule.forbidden.iter().any(|m| covers(m, &path))
                && !rule.except.iter().any(|e| covers(e, &path));
            if bad {
                found.push(Violation {
                    file: rel.to_string(),
                    line,
                    what: format!("crate::{path}"),
                    rule: rule.name,
                });
            }
        }
        for (n, text) in code.lines().enumerate() {
            for p in rule.patterns.iter().filter(|p| text.contains(*p)) {
                found.push(Violation {
                    file: rel.to_string(),
                    line: n + 1,
                    what: (*p).to_string(),
                    rule: rule.name,
                });
            }
        }
    }
    found.retain(|v| {
        !ALLOWED
            .iter()
            .any(|(file, what, _)| v.file == *file && v.what.contains(what))
    });
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_a_layer_above_it_and_handlers_do_not_touch_the_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .expect("under src/")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(file).expect("a source file is UTF-8");
        violations.extend(check(&rel, &text));
    }
    let report: Vec<String> = violations
        .iter()
        .map(|v| format!("src/{}:{}: `{}` breaks {}", v.file, v.line, v.what, v.rule))
        .collect();
    assert!(
        report.is_empty(),
        "{} layering violation(s):\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn the_scanner_finds_upward_imports_in_groups_and_paths_and_ignores_comments_and_strings() {
    let src = r#"
//! Mentions crate::api in a comment, which is fine.
use crate::{domain::BrandId, people::{PersonId, gate::Allowed}};
use crate::error::ApiError; /* crate::checkins::engine in a block comment */
fn f() { let s = "crate::api in a string // not a comment"; crate::support::explain(); }
"#;
    let found = check("store/sqlite/x.rs", src);
    let what: Vec<(usize, &str)> = found.iter().map(|v| (v.line, v.what.as_str())).collect();
    assert_eq!(
        what,
        vec![
            (3, "crate::people::gate::Allowed"),
            (5, "crate::support::explain"),
        ],
        "{found:#?}"
    );
    let handler =
        "use crate::store::{Brand, StoreError};\nasync fn h(s: S) { s.store.ping().await; }\n";
    let found = check("api/x.rs", handler);
    let what: Vec<(usize, &str)> = found.iter().map(|v| (v.line, v.what.as_str())).collect();
    assert_eq!(what, vec![(1, "crate::store::Brand"), (2, ".store.")]);
    assert!(check("people/gate.rs", "use crate::redis_conns::Calls;").is_empty());
    assert_eq!(
        check("people/gate.rs", "use crate::state::AppState;").len(),
        1
    );
}
