//! docs/components.md is generated from the components' config structs: it
//! must be exactly what `weir components --markdown` prints, so a changed
//! setting, default or doc comment cannot leave the reference behind.

use std::path::Path;
use std::process::Command;

#[test]
fn components_md_is_what_the_binary_generates() {
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["components", "--markdown"])
        .output()
        .expect("run weir components --markdown");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).expect("UTF-8 Markdown");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/components.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == generated {
        return;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (committed.lines().collect(), generated.lines().collect());
    let line = (0..a.len().max(b.len()))
        .find(|&i| a.get(i) != b.get(i))
        .unwrap_or(a.len());
    let (ours, theirs) = (
        a.get(line).copied().unwrap_or("<end>"),
        b.get(line).copied().unwrap_or("<end>"),
    );
    let line = line + 1;
    panic!(
        "docs/components.md is stale: run `cargo xtask docs` and commit it.\n\
         First difference at line {line}:\n  committed: {ours}\n  generated: {theirs}"
    );
}

#[test]
fn components_lists_every_type_and_markdown_covers_them() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(args)
            .output()
            .expect("run weir");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let table = run(&["components"]);
    let markdown = run(&["components", "--markdown"]);
    for line in table.lines().skip(1) {
        let mut cols = line.split_whitespace();
        let (Some(_kind), Some(type_name)) = (cols.next(), cols.next()) else {
            continue;
        };
        assert!(
            markdown.contains(&format!("### `{type_name}` (")),
            "no section for `{type_name}` in the reference"
        );
    }
}
