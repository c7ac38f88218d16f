#![allow(clippy::unwrap_used, clippy::expect_used)]
//! An agent's JSON record can be megabytes long: a spec that raises the line cap gets it whole,
//! while what is kept in memory for people stays bounded.

use baton_exec::{CommandSpec, MAX_LINE_BYTES, ProcessEvent, spawn};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_ten_megabyte_line_is_delivered_whole_when_the_cap_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = CommandSpec::shell(
        "head -c 10000000 /dev/zero | tr '\\0' 'x'; echo; echo end",
        dir.path(),
    )
    .max_line_bytes(16 * 1024 * 1024);
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    let mut lengths = Vec::new();
    while let Some(event) = child.next_event().await {
        if let ProcessEvent::Line { text, .. } = event {
            lengths.push(text.len());
        }
    }
    let outcome = child.wait().await;
    assert!(outcome.end.is_success(), "{:?}", outcome.end);
    assert_eq!(lengths, [10_000_000, 3]);
    let kept = outcome.output.text();
    assert!(
        kept.len() < MAX_LINE_BYTES + 100,
        "memory keeps a bounded copy"
    );
    assert!(kept.contains("[line cut:"), "and says it was cut");
}
