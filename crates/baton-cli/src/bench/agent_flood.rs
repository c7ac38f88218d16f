//! What a flooding agent costs baton: a fake Claude Code (a shell script configured as
//! `[agents.claude] command`, so the real adapter's decoder reads it) prints stream-json as
//! fast as `yes` and `cat` can: about 1 GiB of 1 KiB assistant messages, a few multi-MB
//! records, and one record of exactly 16 MiB, the engine's longest line delivered whole
//! (`AGENT_MAX_LINE`). `baton run` drives it as a child process; the bench reads the child's
//! peak RSS (`VmHWM` of `/proc/PID/status`, polled), the decoding throughput (stdout bytes over
//! the time from the process spawn to the end of its stream, from the run's events), and checks
//! in the store that the 16 MiB record arrived as one whole message event.

use anyhow::{Context, bail};
use baton_engine::{Engine, Home};
use baton_git::Git;
use baton_protocol::{AgentEvent, EventBody};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest stdout line the engine decodes whole (`AGENT_MAX_LINE` in baton-engine's
/// `agent_run.rs`, not exported): the largest record the flood sends.
pub const LARGEST_RECORD: usize = 16 * 1024 * 1024;

/// The sizes of the multi-MB records sent in the middle of the flood, in MiB.
const MULTI_MB: &[usize] = &[2, 4, 8];

/// How often the child's peak RSS is read.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// The last words of the largest record's text, so a cut record cannot pass for whole.
const END_MARK: &str = "<end of the 16 MiB record>";

/// Figures of the agent-flood bench.
#[derive(Debug, Clone, Serialize)]
pub struct FloodFigures {
    /// Bytes the fake agent printed on stdout.
    pub stdout_bytes: u64,
    /// Lines it printed.
    pub lines: u64,
    /// Peak RSS of the `baton run` process during the flood, in MiB.
    pub peak_rss_mib: f64,
    /// Peak RSS of the same run with an agent that prints three lines, in MiB.
    pub baseline_rss_mib: f64,
    /// Seconds from the agent's spawn to the end of its decoded stream.
    pub decode_secs: f64,
    /// stdout MB (10^6 bytes) decoded per second.
    pub mb_per_sec: f64,
    /// The largest record sent, in bytes (without its newline).
    pub largest_record_bytes: usize,
    /// Whether the store holds that record as one message event, its text whole.
    pub largest_record_whole: bool,
    /// Wall time of the flooded `baton run`.
    pub wall_secs: f64,
}

/// Runs the bench in `dir` with about `flood_bytes` of small records.
pub async fn agent_flood(dir: &Path, flood_bytes: u64) -> anyhow::Result<FloodFigures> {
    let baseline = run_flood(&dir.join("baseline"), &Flood::baseline()).await?;
    let flood = Flood::new(flood_bytes);
    let measured = run_flood(&dir.join("flood"), &flood).await?;
    let decode_secs = measured.decode.as_secs_f64();
    Ok(FloodFigures {
        stdout_bytes: flood.stdout_bytes(),
        lines: flood.lines(),
        peak_rss_mib: mib(measured.peak_rss_kib),
        baseline_rss_mib: mib(baseline.peak_rss_kib),
        decode_secs,
        mb_per_sec: flood.stdout_bytes() as f64 / 1e6 / decode_secs.max(1e-9),
        largest_record_bytes: LARGEST_RECORD,
        largest_record_whole: measured.largest_whole,
        wall_secs: measured.wall.as_secs_f64(),
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// What the fake agent prints.
#[derive(Debug, Clone)]
struct Flood {
    /// Small records before and after the multi-MB ones.
    small_lines: u64,
    /// Whether to send the multi-MB records and the 16 MiB one.
    big: bool,
}

impl Flood {
    fn new(bytes: u64) -> Flood {
        let small = u64::try_from(small_record().len() + 1).unwrap_or(1024);
        Flood {
            small_lines: bytes / small,
            big: true,
        }
    }

    fn baseline() -> Flood {
        Flood {
            small_lines: 0,
            big: false,
        }
    }

    fn stdout_bytes(&self) -> u64 {
        let len = |text: &str| u64::try_from(text.len() + 1).unwrap_or(0);
        let mut total = len(&init_record()) + len(&result_record());
        total += self.small_lines * len(&small_record());
        if self.big {
            total += u64::try_from(LARGEST_RECORD + 1).unwrap_or(0);
            total += MULTI_MB
                .iter()
                .map(|mb| u64::try_from(mb * 1024 * 1024 + 1).unwrap_or(0))
                .sum::<u64>();
        }
        total
    }

    fn lines(&self) -> u64 {
        let big = if self.big {
            1 + MULTI_MB.len() as u64
        } else {
            0
        };
        2 + self.small_lines + big
    }
}

/// A Claude Code `system/init` record.
fn init_record() -> String {
    r#"{"type":"system","subtype":"init","session_id":"flood","model":"flood","tools":[]}"#
        .to_owned()
}

/// A 1 KiB assistant message.
fn small_record() -> String {
    assistant_record(&"flood ".repeat(139), 1024)
}

/// The final `result` record, with usage.
fn result_record() -> String {
    r#"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"done","session_id":"flood","total_cost_usd":0.0,"usage":{"input_tokens":1,"output_tokens":1}}"#.to_owned()
}

/// An assistant message record of exactly `bytes` bytes whose text starts with `text` and is
/// padded with `x` up to the size, ending with [`END_MARK`].
fn assistant_record(text: &str, bytes: usize) -> String {
    let head = r#"{"type":"assistant","session_id":"flood","message":{"id":"msg_flood","type":"message","role":"assistant","model":"flood","content":[{"type":"text","text":""#;
    let tail = r#""}]}}"#;
    let fixed = head.len() + text.len() + END_MARK.len() + tail.len();
    let pad = bytes.saturating_sub(fixed);
    let mut record = String::with_capacity(bytes);
    record.push_str(head);
    record.push_str(text);
    record.extend(std::iter::repeat_n('x', pad));
    record.push_str(END_MARK);
    record.push_str(tail);
    record
}

/// The text of a record made by [`assistant_record`] with an empty start.
fn padded_text_len(bytes: usize) -> usize {
    assistant_record("", bytes).len() - (assistant_record("", 0).len() - END_MARK.len())
}

/// What one flooded run showed.
struct Measured {
    peak_rss_kib: u64,
    decode: Duration,
    largest_whole: bool,
    wall: Duration,
}

/// Writes the repository, the records, the fake agent and the plan under `dir`, runs
/// `baton run` on them as a child and measures it.
async fn run_flood(dir: &Path, flood: &Flood) -> anyhow::Result<Measured> {
    let repo = dir.join("repo");
    let git = Git::init(&repo, "main").await?;
    std::fs::write(repo.join("README.md"), "baton bench agent-flood\n")?;
    git.commit_all(git.root(), "bench: initial commit").await?;
    let records = dir.join("records");
    std::fs::create_dir_all(&records)?;
    let head = format!("{}\n", init_record());
    let mut middle = String::new();
    if flood.big {
        let largest = assistant_record("", LARGEST_RECORD);
        debug_assert_eq!(largest.len(), LARGEST_RECORD);
        std::fs::write(records.join("largest.jsonl"), format!("{largest}\n"))?;
        for mb in MULTI_MB {
            let _ = writeln!(middle, "{}", assistant_record("", mb * 1024 * 1024));
        }
    }
    std::fs::write(records.join("head.jsonl"), head)?;
    std::fs::write(records.join("multi.jsonl"), middle)?;
    std::fs::write(records.join("tail.jsonl"), format!("{}\n", result_record()))?;
    let agent = write_agent(dir, &records, flood)?;
    // Untracked, and ignored so the repository stays clean.
    std::fs::write(
        repo.join("baton.toml"),
        format!(
            "[agents.claude]\ncommand = {}\n",
            serde_json::Value::String(agent.display().to_string())
        ),
    )?;
    std::fs::write(repo.join(".git/info/exclude"), "/baton.toml\n")?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        "version: 1\ngoal: \"bench: a flooding agent\"\nbase: main\nlanes: 1\ntasks:\n  - id: flood\n    agent: claude\n    prompt: \"Print as much as you can.\"\n    claims: [\"flood.txt\"]\n",
    )?;
    let baton_home = dir.join("baton-home");
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;
    let stderr_path = dir.join("baton-run.stderr");
    let started = std::time::Instant::now();
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["run", "--json", "--plan"])
        .arg(&plan)
        .current_dir(&repo)
        // The fake agent needs no HOME, and the adapter's state directories go here.
        .env("HOME", &home)
        .env("BATON_HOME", &baton_home)
        .env_remove("BATON_FAILPOINTS")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr_path)?)
        .kill_on_drop(true)
        .spawn()
        .context("starting `baton run` for the flood")?;
    let pid = child.id().context("the `baton run` child vanished")?;
    let mut peak_rss_kib = 0;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            () = tokio::time::sleep(POLL_EVERY) => {
                peak_rss_kib = peak_rss_kib.max(vm_hwm_kib(pid).unwrap_or(0));
            }
        }
    };
    let wall = started.elapsed();
    if !status.success() {
        let said = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        bail!(
            "`baton run` of the flood ended {status}: {}",
            said.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
        );
    }
    let (decode, largest_whole) = read_events(&baton_home, flood.big).await?;
    Ok(Measured {
        peak_rss_kib,
        decode,
        largest_whole,
        wall,
    })
}

/// The fake agent: writes its task's file, then prints the records.
fn write_agent(dir: &Path, records: &Path, flood: &Flood) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let quote = |path: &Path| format!("'{}'", path.display().to_string().replace('\'', r"'\''"));
    // Half the small records before the multi-MB ones, half after.
    let first = flood.small_lines / 2;
    let second = flood.small_lines - first;
    let small = small_record();
    let mut script = String::from(
        "#!/bin/sh\n# baton bench agent-flood: a fake Claude Code printing stream-json as fast as \
         it can.\nset -e\necho flood > flood.txt\n",
    );
    let _ = writeln!(script, "cat {}", quote(&records.join("head.jsonl")));
    if flood.big {
        let _ = writeln!(script, "cat {}", quote(&records.join("largest.jsonl")));
    }
    if first > 0 {
        let _ = writeln!(script, "yes '{small}' | head -n {first}");
    }
    let _ = writeln!(script, "cat {}", quote(&records.join("multi.jsonl")));
    if second > 0 {
        let _ = writeln!(script, "yes '{small}' | head -n {second}");
    }
    let _ = writeln!(script, "cat {}", quote(&records.join("tail.jsonl")));
    let path = dir.join("fake-claude.sh");
    std::fs::write(&path, script)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(path)
}

/// `VmHWM` (peak resident set) of process `pid`, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// From the run's events: the time from the agent's spawn to the end of its stream, and
/// whether the largest record is stored as one message event with its whole text.
async fn read_events(baton_home: &Path, big: bool) -> anyhow::Result<(Duration, bool)> {
    let engine = Engine::open(Home::new(baton_home)).await?;
    let Some(run) = engine.store().runs().await?.into_iter().next() else {
        bail!("the flood run is not in {}", baton_home.display());
    };
    let events = engine.store().events(&run.id, 0, u32::MAX).await?;
    let time = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
    let mut spawned = None;
    let mut ended = None;
    let mut whole = false;
    let expected = padded_text_len(LARGEST_RECORD);
    for event in &events {
        match &event.body {
            EventBody::AttemptProcess { .. } => spawned = spawned.or(time(&event.time)),
            EventBody::AttemptAgentEnded { .. } => ended = time(&event.time),
            EventBody::AttemptAgent {
                event: AgentEvent::Message { text },
                ..
            } if text.len() == expected && text.ends_with(END_MARK) => whole = true,
            _ => {}
        }
    }
    let (Some(spawned), Some(ended)) = (spawned, ended) else {
        bail!("the flood run has no process start or end event");
    };
    let micros = (ended - spawned).num_microseconds().unwrap_or(0).max(0);
    Ok((
        Duration::from_micros(u64::try_from(micros).unwrap_or(0)),
        whole || !big,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_have_the_sizes_the_figures_count_and_are_claude_json() {
        let largest = assistant_record("", LARGEST_RECORD);
        assert_eq!(largest.len(), LARGEST_RECORD);
        let value: serde_json::Value = serde_json::from_str(&largest).unwrap();
        let text = value["message"]["content"][0]["text"].as_str().unwrap();
        assert_eq!(text.len(), padded_text_len(LARGEST_RECORD));
        assert!(text.ends_with(END_MARK));
        assert_eq!(small_record().len(), 1024);
        for record in [init_record(), result_record(), small_record()] {
            serde_json::from_str::<serde_json::Value>(&record).unwrap();
            assert!(!record.contains('\''), "records go in single quotes");
        }
        // Each small record takes 1025 bytes with its newline.
        let flood = Flood::new(1025 * 1000);
        assert_eq!(flood.small_lines, 1000);
        assert_eq!(flood.lines(), 2 + 1000 + 1 + MULTI_MB.len() as u64);
        let big = (16 + 2 + 4 + 8) * 1024 * 1024 + 4;
        let ends = init_record().len() + result_record().len() + 2;
        assert_eq!(flood.stdout_bytes(), (1025 * 1000 + big + ends) as u64);
    }

    #[test]
    fn the_peak_rss_of_this_process_is_read_from_proc() {
        let kib = vm_hwm_kib(std::process::id()).unwrap();
        assert!(kib > 100, "{kib} KiB");
        assert_eq!(vm_hwm_kib(u32::MAX), None);
    }
}
