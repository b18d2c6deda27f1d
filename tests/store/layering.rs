//! The store sits below the use cases: it may import only the bottom layer and the models.

use std::path::Path;

/// What `src/store/**` may import from the crate: besides itself, the bottom layer and the
/// plain-data models (`people::erasure` and the other use cases are above it).
const ALLOWED: [&str; 11] = [
    "store",
    "domain",
    "clock",
    "error",
    "decisions",
    "audit",
    "auth",
    "events",
    "fences",
    "offers",
    "people",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_store_imports_nothing_above_it() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store"),
        &mut files,
    );
    let mut upward = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for (i, _) in line.match_indices("crate::") {
                let module: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let erasure = line[i..].starts_with("crate::people::erasure");
                if !ALLOWED.contains(&module.as_str()) || erasure {
                    upward.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}
