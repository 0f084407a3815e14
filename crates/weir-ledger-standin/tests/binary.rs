//! The `ledger-standin` binary prints its address first and serves there.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::*;

#[tokio::test]
async fn the_binary_prints_its_address_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledger-standin"))
        .args(["--key", "ledger_by_hand", "--quota", "3", "--no-record"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().strip_prefix("listening on http://").unwrap();
    let addr = url.parse().unwrap();
    let r = send(
        addr,
        "GET",
        SETTINGS,
        &[("x-api-key", "ledger_by_hand")],
        Vec::new(),
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let r = r.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["quotas"]["daily_quota"], 3);
}
