//! A real SMTP server on loopback: aiosmtpd (from PyPI, pinned beside Synapse in
//! `tests/synapse/requirements.txt`), delivering every mail it accepts into a Maildir that the
//! tests read back with a MIME parser, as a mail client would.

use std::{
    fs,
    net::Ipv4Addr,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use mail_parser::MessageParser;

use crate::{
    process::Supervised,
    synapse::{ensure_synapse, free_port, scratch_root},
    wait::wait_for,
};

/// An SMTP server that keeps what it receives.
#[derive(Debug)]
pub struct Smtp {
    process: Supervised,
    /// Where it listens, on 127.0.0.1.
    pub port: u16,
    maildir: PathBuf,
}

/// One mail as received.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The `To` addresses.
    pub to: Vec<String>,
    /// The `From` address.
    pub from: String,
    /// The subject, decoded.
    pub subject: String,
    /// The plain-text body, decoded.
    pub text: String,
    /// The `Message-ID`.
    pub message_id: String,
}

impl Smtp {
    /// Starts a server on a free port and waits until it accepts connections.
    pub async fn start() -> Result<Self> {
        let python = ensure_synapse()?;
        fs::create_dir_all(scratch_root())?;
        let dir: PathBuf = tempfile::Builder::new()
            .prefix("smtp-")
            .tempdir_in(scratch_root())?
            .keep();
        let maildir = dir.join("Maildir");
        let port = free_port(Ipv4Addr::LOCALHOST)?;
        let mut process = Supervised::new(
            "smtp",
            &python,
            [
                "-m".to_owned(),
                "aiosmtpd".to_owned(),
                "--nosetuid".to_owned(),
                "--listen".to_owned(),
                format!("127.0.0.1:{port}"),
                "--class".to_owned(),
                "aiosmtpd.handlers.Mailbox".to_owned(),
                maildir.display().to_string(),
            ],
            &dir,
            String::new(),
        );
        process.spawn(&[])?;
        wait_for("the SMTP server to listen", || async {
            tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                .await
                .ok()
                .map(drop)
        })
        .await
        .with_context(|| format!("smtp log: {}", process.log()))?;
        Ok(Self {
            process,
            port,
            maildir,
        })
    }

    /// Its URL, for `notify.email.smtp`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far.
    pub fn mails(&self) -> Result<Vec<Mail>> {
        let mut mails = Vec::new();
        for folder in ["new", "cur"] {
            let folder = self.maildir.join(folder);
            if !folder.exists() {
                continue;
            }
            for entry in fs::read_dir(&folder)? {
                mails.push(read(&entry?.path())?);
            }
        }
        Ok(mails)
    }

    /// Waits for a mail that `holds`, and returns it.
    pub async fn wait_for_mail(&self, what: &str, holds: impl Fn(&Mail) -> bool) -> Result<Mail> {
        wait_for(what, || async {
            self.mails().ok()?.into_iter().find(|mail| holds(mail))
        })
        .await
        .with_context(|| format!("smtp log: {}", self.process.log()))
    }
}

fn read(path: &Path) -> Result<Mail> {
    let bytes = fs::read(path)?;
    let message = MessageParser::default()
        .parse(&bytes)
        .with_context(|| format!("{} is not a mail", path.display()))?;
    let addresses = |list: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        list.into_iter()
            .flat_map(|address| address.iter())
            .filter_map(|address| address.address().map(str::to_owned))
            .collect()
    };
    Ok(Mail {
        to: addresses(message.to()),
        from: addresses(message.from()).join(", "),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        message_id: message.message_id().unwrap_or_default().to_owned(),
    })
}
