#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Landlock confinement of real child processes: writes land only where they are allowed.

use std::path::{Path, PathBuf};

use baton_exec::{
    Captured, CommandSpec, Confinement, OutputStream, ProcessEvent, landlock_support, run_captured,
    spawn,
};
use tokio_util::sync::CancellationToken;

/// Whether this kernel confines; prints why a test is skipped when it does not.
fn landlock_or_skip(test: &str) -> bool {
    let support = landlock_support();
    if !support.confines() {
        eprintln!("skipping {test}: this kernel has no Landlock ({support})");
    }
    support.confines()
}

/// A temporary tree: `lane/` and `tmp/` are writable, `sibling/` is not, and `root` is the
/// parent of all three.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    lane: PathBuf,
    tmp: PathBuf,
    sibling: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let (lane, tmp, sibling) = (root.join("lane"), root.join("tmp"), root.join("sibling"));
        for d in [&lane, &tmp, &sibling] {
            std::fs::create_dir(d).unwrap();
        }
        Tree {
            _dir: dir,
            root,
            lane,
            tmp,
            sibling,
        }
    }

    fn confinement(&self) -> Confinement {
        Confinement::new().writable(&self.lane).temp_dir(&self.tmp)
    }

    fn shell(&self, script: &str) -> CommandSpec {
        CommandSpec::shell(script, &self.lane).confine(self.confinement())
    }
}

async fn run(spec: CommandSpec) -> Captured {
    run_captured(spec).await.unwrap()
}

fn show(out: &Captured) -> String {
    format!(
        "{}; stdout: {}; stderr: {}",
        out.status,
        out.stdout_text(),
        out.stderr
    )
}

#[tokio::test]
async fn a_confined_process_writes_in_its_lane_and_its_temp_dir() {
    if !landlock_or_skip("a_confined_process_writes_in_its_lane_and_its_temp_dir") {
        return;
    }
    let tree = Tree::new();
    let out = run(tree.shell(
        "echo lane > in-lane.txt && mkdir -p sub/deeper && echo deep > sub/deeper/f && \
         echo tmp > \"$TMPDIR/in-tmp.txt\" && mv \"$TMPDIR/in-tmp.txt\" moved.txt && \
         rm sub/deeper/f && echo \"$TMPDIR\"",
    ))
    .await;
    assert!(out.success(), "{}", show(&out));
    assert_eq!(out.stdout_text().trim(), tree.tmp.display().to_string());
    assert_eq!(
        std::fs::read_to_string(tree.lane.join("in-lane.txt")).unwrap(),
        "lane\n"
    );
    assert_eq!(
        std::fs::read_to_string(tree.lane.join("moved.txt")).unwrap(),
        "tmp\n"
    );
    assert!(!tree.lane.join("sub/deeper/f").exists());
}

#[tokio::test]
async fn a_confined_process_cannot_write_to_a_sibling_a_parent_or_an_absolute_path_elsewhere() {
    if !landlock_or_skip("a_confined_process_cannot_write_...") {
        return;
    }
    let tree = Tree::new();
    let elsewhere = tempfile::tempdir().unwrap();
    let targets: Vec<PathBuf> = vec![
        tree.sibling.join("s.txt"),
        tree.root.join("parent.txt"),
        tree.lane.join("../parent-by-dots.txt"),
        elsewhere.path().join("abs.txt"),
    ];
    for target in &targets {
        let script = format!("echo x > '{}'", target.display());
        // The same write unconfined succeeds: the refusal below is the confinement's doing.
        let free = run(CommandSpec::shell(&script, &tree.lane)).await;
        assert!(free.success(), "{}", show(&free));
        std::fs::remove_file(target).unwrap();

        let out = run(tree.shell(&script)).await;
        assert!(
            !out.success(),
            "{} was written: {}",
            target.display(),
            show(&out)
        );
        assert!(out.stderr.contains("Permission denied"), "{}", show(&out));
        assert!(!target.exists(), "{} exists", target.display());
    }
}

#[tokio::test]
async fn the_kernel_answers_a_refused_write_with_eacces() {
    if !landlock_or_skip("the_kernel_answers_a_refused_write_with_eacces") {
        return;
    }
    let tree = Tree::new();
    let target = tree.sibling.join("py.txt");
    let script = format!(
        "import errno\ntry:\n    open({:?}, 'w')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])",
        target.display().to_string()
    );
    let spec = CommandSpec::new("python3", &tree.lane)
        .args(["-c", &script])
        .confine(tree.confinement());
    let out = run(spec).await;
    assert!(out.success(), "{}", show(&out));
    assert_eq!(out.stdout_text().trim(), "EACCES");
    assert!(!target.exists());
}

#[tokio::test]
async fn a_confined_process_cannot_delete_or_truncate_files_outside() {
    if !landlock_or_skip("a_confined_process_cannot_delete_or_truncate_files_outside") {
        return;
    }
    let tree = Tree::new();
    let kept = tree.sibling.join("kept.txt");
    std::fs::write(&kept, "precious\n").unwrap();
    let script = format!(
        "rm -f '{k}'; truncate -s 0 '{k}'; mv '{k}' moved; ln -s x '{d}/link'; mkdir '{d}/dir'; true",
        k = kept.display(),
        d = tree.sibling.display()
    );
    let out = run(tree.shell(&script)).await;
    assert!(out.success(), "{}", show(&out));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "precious\n");
    assert!(!tree.lane.join("moved").exists());
    assert!(!tree.sibling.join("link").exists());
    assert!(!tree.sibling.join("dir").exists());
}

#[tokio::test]
async fn a_confined_process_reads_files_outside_its_writable_dirs() {
    if !landlock_or_skip("a_confined_process_reads_files_outside_its_writable_dirs") {
        return;
    }
    let tree = Tree::new();
    std::fs::write(tree.sibling.join("readme"), "outside text\n").unwrap();
    let script = format!(
        "cat '{}/readme' && ls '{}' && test -x /bin/sh && echo exec-ok",
        tree.sibling.display(),
        tree.root.display()
    );
    let out = run(tree.shell(&script)).await;
    assert!(out.success(), "{}", show(&out));
    let text = out.stdout_text();
    assert!(text.starts_with("outside text\n"), "{text}");
    assert!(
        text.contains("sibling") && text.contains("exec-ok"),
        "{text}"
    );
}

#[tokio::test]
async fn a_grandchild_inherits_the_confinement() {
    if !landlock_or_skip("a_grandchild_inherits_the_confinement") {
        return;
    }
    let tree = Tree::new();
    let target = tree.sibling.join("grandchild.txt");
    // The grandchild leaves the process group and the session: confinement does not care.
    let script = format!(
        "setsid sh -c \"echo x > '{t}' || echo refused; echo ok > '{l}/grand.txt'\"",
        t = target.display(),
        l = tree.lane.display()
    );
    let out = run(tree.shell(&script)).await;
    assert!(out.success(), "{}", show(&out));
    assert_eq!(out.stdout_text().trim(), "refused");
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_to_string(tree.lane.join("grand.txt")).unwrap(),
        "ok\n"
    );
}

#[tokio::test]
async fn git_init_and_commit_work_inside_a_writable_dir() {
    if !landlock_or_skip("git_init_and_commit_work_inside_a_writable_dir") {
        return;
    }
    let tree = Tree::new();
    let script = "git init -q -b main . && echo hello > a.txt && git add a.txt && \
                  git -c user.name=t -c user.email=t@t commit -q -m first && \
                  git log --format=%s";
    let spec = tree
        .shell(script)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", tree.tmp.to_string_lossy());
    let out = run(spec).await;
    assert!(out.success(), "{}", show(&out));
    assert_eq!(out.stdout_text().trim(), "first");
}

#[tokio::test]
async fn common_tools_work_under_confinement() {
    if !landlock_or_skip("common_tools_work_under_confinement") {
        return;
    }
    let tree = Tree::new();
    let script = "set -e; echo gone > /dev/null; echo out > /dev/stdout; \
        head -c 4 /dev/urandom > rand; head -c 4 /dev/zero > /dev/null; \
        f=$(mktemp); echo t > \"$f\"; case \"$f\" in \"$TMPDIR\"/*) echo mktemp-in-tmpdir;; esac; \
        python3 -c 'import tempfile; f = tempfile.NamedTemporaryFile(delete=False); \
f.write(b\"x\"); print(\"python\", f.name.startswith(__import__(\"os\").environ[\"TMPDIR\"]))'; \
        d=$(mktemp -d); touch \"$d/x\"; rm -r \"$d\"; echo done";
    let out = run(tree.shell(script)).await;
    assert!(out.success(), "{}", show(&out));
    assert_eq!(
        out.stdout_text(),
        "out\nmktemp-in-tmpdir\npython True\ndone\n",
        "{}",
        show(&out)
    );
}

#[tokio::test]
async fn a_supervised_process_is_confined_too_and_missing_paths_are_skipped() {
    if !landlock_or_skip("a_supervised_process_is_confined_too_and_missing_paths_are_skipped") {
        return;
    }
    let tree = Tree::new();
    let target = tree.sibling.join("supervised.txt");
    let confinement = tree
        .confinement()
        .writable(tree.root.join("does-not-exist"));
    let script = format!(
        "echo x 2>/dev/null > '{}' || echo refused; echo y > mine && echo wrote",
        target.display()
    );
    let spec = CommandSpec::shell(script, &tree.lane).confine(confinement);
    let mut child = spawn(spec, CancellationToken::new()).unwrap();
    let mut lines = Vec::new();
    while let Some(event) = child.next_event().await {
        if let ProcessEvent::Line {
            text,
            stream: OutputStream::Stdout,
        } = event
        {
            lines.push(text);
        }
    }
    let outcome = child.wait().await;
    assert!(outcome.end.is_success(), "{}", outcome.end);
    assert_eq!(lines, ["refused", "wrote"]);
    assert!(!target.exists());
}

#[test]
fn landlock_support_agrees_with_the_kernel_security_modules() {
    let Ok(lsm) = std::fs::read_to_string("/sys/kernel/security/lsm") else {
        eprintln!("skipping: /sys/kernel/security/lsm is not readable here");
        return;
    };
    let support = landlock_support();
    assert_eq!(
        support.confines(),
        lsm.split(',').any(|m| m.trim() == "landlock"),
        "{support} vs {lsm}"
    );
}

#[test]
fn a_confinement_allows_the_devices_programs_need() {
    let confinement = Confinement::new().writable("/some/lane");
    let paths: Vec<&Path> = confinement
        .writable_paths()
        .iter()
        .map(PathBuf::as_path)
        .collect();
    for device in [
        "/dev/null",
        "/dev/tty",
        "/dev/pts",
        "/dev/shm",
        "/dev/urandom",
    ] {
        assert!(paths.contains(&Path::new(device)), "{device} missing");
    }
    assert!(paths.contains(&Path::new("/some/lane")));
    assert_eq!(confinement.temp_dir_path(), None);
}
