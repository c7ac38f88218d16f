//! Landlock confinement: a child may read and execute everything, but write only beneath the
//! paths it was given.
//!
//! The ruleset is built in the parent (that opens every writable path, allocates, and may
//! fail with a useful error); the forked child, which must not allocate or take locks because
//! the parent is multi-threaded, only makes two system calls before `exec`:
//! `prctl(PR_SET_NO_NEW_PRIVS)` and `landlock_restrict_self(ruleset)`. Everything the child
//! starts afterwards inherits the confinement; nothing can lift it.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use landlock::{
    ABI, AccessFs, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr,
};

use crate::ExecError;

/// The Landlock ABI whose filesystem write rights baton asks for. ABI 5 completes them
/// (`IoctlDev`); ABIs 6 to 8 add no filesystem right. ABI 9's `ResolveUnix` is left out on
/// purpose: it would stop agents from reaching sockets such as ssh-agent's.
const TARGET_ABI: ABI = ABI::V5;
/// The ABI number of [`TARGET_ABI`], for [`LandlockSupport`].
const TARGET_ABI_NUMBER: u32 = 5;

/// Device files and directories every confined process may write: programs open `/dev/null`
/// for writing, terminals and pseudo-terminals for prompts, `/dev/shm` for POSIX shared memory.
pub const DEVICE_PATHS: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
];

/// What this kernel can enforce of a [`Confinement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandlockSupport {
    /// Every write right baton asks for is enforced (Landlock ABI 5 or newer).
    Full {
        /// The kernel's Landlock ABI version.
        abi: u32,
    },
    /// Landlock works but some rights are not enforced (ABI 1 cannot refuse truncation,
    /// ABI 1 to 4 cannot refuse device ioctls): confined processes are confined best-effort.
    Partial {
        /// The kernel's Landlock ABI version.
        abi: u32,
    },
    /// The kernel has no Landlock (not built in, or not enabled at boot): processes run
    /// unconfined.
    Unsupported,
}

impl LandlockSupport {
    /// Whether confined processes are confined at all (fully or best-effort).
    pub fn confines(&self) -> bool {
        !matches!(self, LandlockSupport::Unsupported)
    }
}

impl std::fmt::Display for LandlockSupport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LandlockSupport::Full { abi } => write!(f, "Landlock ABI {abi} (full)"),
            LandlockSupport::Partial { abi } => {
                write!(
                    f,
                    "Landlock ABI {abi} (partial: ABI {TARGET_ABI_NUMBER} is complete)"
                )
            }
            LandlockSupport::Unsupported => write!(f, "no Landlock"),
        }
    }
}

/// What the running kernel supports, asked once per process.
pub fn landlock_support() -> LandlockSupport {
    static SUPPORT: OnceLock<LandlockSupport> = OnceLock::new();
    *SUPPORT.get_or_init(|| {
        const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
        // SAFETY: with a null attribute pointer, size 0 and the VERSION flag the call only
        // returns the ABI version (or fails with ENOSYS/EOPNOTSUPP); it touches no memory.
        let abi = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<libc::c_void>(),
                0usize,
                LANDLOCK_CREATE_RULESET_VERSION,
            )
        };
        match u32::try_from(abi) {
            Ok(abi) if abi >= TARGET_ABI_NUMBER => LandlockSupport::Full { abi },
            Ok(abi) if abi >= 1 => LandlockSupport::Partial { abi },
            _ => LandlockSupport::Unsupported,
        }
    })
}

/// Where a confined process may write. It may read and execute everywhere.
///
/// A new confinement already allows the [`DEVICE_PATHS`]; add the directories the process
/// works in with [`Confinement::writable`] and its private temporary directory with
/// [`Confinement::temp_dir`]. Paths that do not exist when the process starts are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confinement {
    writable: Vec<PathBuf>,
    temp_dir: Option<PathBuf>,
}

impl Default for Confinement {
    fn default() -> Self {
        Self::new()
    }
}

impl Confinement {
    /// A confinement that allows writing only to the [`DEVICE_PATHS`].
    pub fn new() -> Self {
        Self {
            writable: DEVICE_PATHS.iter().map(PathBuf::from).collect(),
            temp_dir: None,
        }
    }

    /// Also allows writing anywhere beneath `path` (a directory) or to `path` (a file).
    pub fn writable(mut self, path: impl Into<PathBuf>) -> Self {
        self.writable.push(path.into());
        self
    }

    /// Allows writing beneath `dir` and makes it the process's `TMPDIR`.
    pub fn temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        self.writable.push(dir.clone());
        self.temp_dir = Some(dir);
        self
    }

    /// Every path the process may write beneath, devices and temporary directory included.
    pub fn writable_paths(&self) -> &[PathBuf] {
        &self.writable
    }

    /// The private temporary directory, if one was given.
    pub fn temp_dir_path(&self) -> Option<&Path> {
        self.temp_dir.as_deref()
    }

    /// Builds the kernel ruleset in the parent. `None` when the kernel has no Landlock (the
    /// process then runs unconfined; [`landlock_support`] tells callers so).
    pub(crate) fn ruleset(&self, program: &str) -> Result<Option<OwnedFd>, ExecError> {
        if !landlock_support().confines() {
            return Ok(None);
        }
        let write = AccessFs::from_write(TARGET_ABI);
        let ruleset_error = |source| ExecError::ConfineRuleset {
            program: program.to_owned(),
            source,
        };
        // Best effort: an older kernel enforces the rights it knows and ignores the rest.
        let mut created = Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(write)
            .map_err(ruleset_error)?
            .create()
            .map_err(ruleset_error)?;
        for path in &self.writable {
            let Some((fd, access)) = open_rule_path(program, path, write)? else {
                continue;
            };
            created = created
                .add_rule(PathBeneath::new(fd, access))
                .map_err(|source| ExecError::ConfineRule {
                    program: program.to_owned(),
                    path: path.clone(),
                    source,
                })?;
        }
        Ok(Option::<OwnedFd>::from(created))
    }
}

/// Opens one writable path for a rule, with the rights that fit its kind (a rule on a file may
/// not carry directory rights). `None` when the path does not exist.
fn open_rule_path(
    program: &str,
    path: &Path,
    write: BitFlags<AccessFs>,
) -> Result<Option<(PathFd, BitFlags<AccessFs>)>, ExecError> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ExecError::ConfinePath {
                program: program.to_owned(),
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let access = if metadata.is_dir() {
        write
    } else {
        write & AccessFs::from_file(TARGET_ABI)
    };
    match PathFd::new(path) {
        Ok(fd) => Ok(Some((fd, access))),
        Err(landlock::PathFdError::OpenCall { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(landlock::PathFdError::OpenCall { source, .. }) => Err(ExecError::ConfinePath {
            program: program.to_owned(),
            path: path.to_path_buf(),
            source,
        }),
        Err(other) => Err(ExecError::ConfinePath {
            program: program.to_owned(),
            path: path.to_path_buf(),
            source: std::io::Error::other(other.to_string()),
        }),
    }
}

/// Makes the child restrict itself with `ruleset` between fork and exec.
///
/// The ruleset's descriptor must stay open until the command was spawned; it is close-on-exec,
/// so the program never sees it.
pub(crate) fn restrict_in_child(cmd: &mut tokio::process::Command, ruleset: &OwnedFd) {
    let fd: RawFd = ruleset.as_raw_fd();
    // SAFETY: the closure runs in the forked child of a multi-threaded parent, so it must be
    // async-signal-safe: it only makes two system calls on a copied integer and reads errno
    // (`last_os_error` does not allocate). No allocation, no lock.
    unsafe {
        cmd.pre_exec(move || {
            // Required by landlock_restrict_self for an unprivileged process; it also stops
            // set-user-id programs (sudo, su) from gaining privileges.
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
