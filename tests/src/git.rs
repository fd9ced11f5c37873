//! Real git repositories for the tests: a bare repository as a host's would be, with a file of
//! its operator's and a switch that makes it refuse pushes, read back with the `git` program.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use anyhow::{ensure, Result};
use tempfile::TempDir;

/// `git` with `args` in `dir`, as the operator; its output, failing unless it succeeds.
pub fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Operator")
        .env("GIT_AUTHOR_EMAIL", "ops@example.org")
        .env("GIT_COMMITTER_NAME", "Operator")
        .env("GIT_COMMITTER_EMAIL", "ops@example.org")
        .output()?;
    ensure!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

/// A bare repository on `main`, holding one file the operator committed, that refuses every
/// push with "closed for maintenance" while it is closed. Removed when dropped.
#[derive(Debug)]
pub struct Remote {
    /// The bare repository.
    pub path: PathBuf,
    gate: PathBuf,
    _scratch: TempDir,
}

impl Remote {
    /// A repository `name` whose `main` holds `file` with `text`, open.
    pub fn new(name: &str, file: &str, text: &str) -> Result<Self> {
        let scratch = tempfile::tempdir()?;
        let path = scratch.path().join(name);
        git(
            scratch.path(),
            &["init", "--quiet", "--bare", "--initial-branch=main", name],
        )?;
        let checkout = scratch.path().join("checkout");
        git(scratch.path(), &["clone", "--quiet", name, "checkout"])?;
        std::fs::write(checkout.join(file), text)?;
        git(&checkout, &["add", file])?;
        git(
            &checkout,
            &["commit", "--quiet", "-m", &format!("Add {file}")],
        )?;
        git(&checkout, &["push", "--quiet", "origin", "HEAD:main"])?;
        let gate = scratch.path().join("closed");
        std::fs::create_dir_all(path.join("hooks"))?;
        let hook = path.join("hooks/pre-receive");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\nif [ -e '{}' ]; then echo 'closed for maintenance' >&2; exit 1; fi\n",
                gate.display()
            ),
        )?;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
        Ok(Self {
            path,
            gate,
            _scratch: scratch,
        })
    }

    /// Refuses pushes from now on.
    pub fn close(&self) -> Result<()> {
        Ok(std::fs::write(&self.gate, "")?)
    }

    /// Takes pushes again.
    pub fn open(&self) -> Result<()> {
        Ok(std::fs::remove_file(&self.gate)?)
    }

    /// `git` with `args` in the repository.
    pub fn git(&self, args: &[&str]) -> Result<String> {
        git(&self.path, args)
    }

    /// The text of `file` on `main`, or empty while it has none.
    pub fn show(&self, file: &str) -> String {
        self.git(&["show", &format!("main:{file}")])
            .unwrap_or_default()
    }
}
