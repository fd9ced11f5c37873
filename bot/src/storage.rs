//! The bot's storage directory holds private incidents' titles, decrypted flagged messages and
//! the device's keys: it is the bot's user's alone. At start the process's umask becomes 077,
//! so that what the stores create later is private too, and what is there already is made so:
//! directories 0700, files 0600, each one changed logged.

use std::{
    fs, io,
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::Path,
};

use rustix::fs::Mode;
use tracing::warn;

const DIRECTORY_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Creates `path` if it is missing and makes everything under it private.
pub fn make_private(path: &Path) -> io::Result<()> {
    rustix::process::umask(Mode::from_raw_mode(0o077));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIRECTORY_MODE)
        .create(path)?;
    tighten(path)
}

/// Sets `path` (not following links) and everything under it to the private modes.
fn tighten(path: &Path) -> io::Result<()> {
    let metadata = fs::symlink_metadata(path)?;
    let mode = if metadata.is_dir() {
        DIRECTORY_MODE
    } else if metadata.is_file() {
        FILE_MODE
    } else {
        return Ok(());
    };
    if metadata.permissions().mode() & 0o777 != mode {
        warn!(path = %path.display(), was = format!("{:o}", metadata.permissions().mode() & 0o777), now = format!("{mode:o}"), "storage was readable by others: made private");
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    if metadata.is_dir() {
        for entry in fs::read_dir(path)? {
            tighten(&entry?.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn a_storage_readable_by_others_is_made_private_and_new_files_are_private() {
        let dir = tempfile::tempdir().expect("a directory");
        let storage = dir.path().join("data");
        let inner = storage.join("brigade.sled");
        fs::create_dir_all(&inner).expect("created");
        fs::set_permissions(&storage, fs::Permissions::from_mode(0o755)).expect("set");
        fs::write(inner.join("db"), b"titles").expect("written");
        fs::set_permissions(inner.join("db"), fs::Permissions::from_mode(0o644)).expect("set");

        make_private(&storage).expect("made private");
        assert_eq!(mode(&storage), 0o700);
        assert_eq!(mode(&inner), 0o700);
        assert_eq!(mode(&inner.join("db")), 0o600);
        fs::write(inner.join("later"), b"keys").expect("written");
        assert_eq!(
            mode(&inner.join("later")),
            0o600,
            "the umask covers what comes later"
        );
    }
}
