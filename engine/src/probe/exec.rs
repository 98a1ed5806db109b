//! Runs one command on an authenticated session, feeding it a script on stdin: the
//! script never appears in a command line, so no login shell (bash, csh, fish) gets to
//! parse it, only `sh`.

use russh::ChannelMsg;

use super::outcome::Failure;
use super::session::Session;
use crate::category::{Category, Stage};
use crate::text::printable;

/// Output beyond this is dropped; the inspection prints a few hundred bytes.
const OUTPUT_CAP: usize = 64 * 1024;

/// How every script run as root starts: messages in English, where the parsers expect
/// them, and a PATH that finds the admin tools (useradd, visudo, sshd) whatever the
/// login's PATH was.
pub const ROOT_PREAMBLE: &str = "LC_ALL=C; export LC_ALL\n\
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH\n";

#[derive(Debug, Default)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: Option<u32>,
}

pub async fn run_script(session: &Session, command: &str, script: &str) -> Result<Output, Failure> {
    let refused = |what: String| Failure::new(Category::ExecRefused, Stage::Inspect, what);
    let mut channel = session
        .channel_open_session()
        .await
        .map_err(|e| refused(format!("the server refused a session channel: {e}")))?;
    channel
        .exec(true, command)
        .await
        .map_err(|e| refused(format!("cannot request the command: {e}")))?;
    channel
        .data_bytes(script.as_bytes().to_vec())
        .await
        .map_err(|e| refused(format!("cannot send the script: {e}")))?;
    let _ = channel.eof().await;
    let mut output = Output::default();
    while let Some(message) = channel.wait().await {
        match message {
            ChannelMsg::Failure => {
                return Err(refused(
                    "the server refused to run a command on this account".into(),
                ));
            }
            ChannelMsg::Data { data } => append(&mut output.stdout, &data),
            ChannelMsg::ExtendedData { data, .. } => append(&mut output.stderr, &data),
            ChannelMsg::ExitStatus { exit_status } => output.status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    Ok(output)
}

impl Output {
    /// The marked output of a probe script on stdout; see [`marked`].
    pub fn marked(&self, marker: &str) -> Option<Marked> {
        marked(&String::from_utf8_lossy(&self.stdout), marker)
    }

    /// What the command said first (stdout, else stderr), printable, for messages.
    pub fn first_words(&self) -> String {
        [&self.stdout, &self.stderr]
            .into_iter()
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
            .find(|t| !t.is_empty())
            .map(|t| printable(t.lines().next().unwrap_or("").as_bytes()))
            .unwrap_or_else(|| {
                format!(
                    "no output, exit status {}",
                    self.status.map_or("none".into(), |s| s.to_string())
                )
            })
    }
}

/// The `key=value` lines a probe script printed after its marker line, and whether its
/// closing `end` line came; `None` when the marker never came (the account's shell ran
/// something else, like nologin's refusal).
pub fn marked(stdout: &str, marker: &str) -> Option<Marked> {
    let mut lines = stdout.lines().skip_while(|l| l.trim() != marker);
    lines.next()?;
    let mut marked = Marked::default();
    for line in lines {
        if line == "end" {
            marked.complete = true;
            break;
        }
        if let Some((key, value)) = line.split_once('=') {
            marked.pairs.push((key.to_string(), value.to_string()));
        }
    }
    Some(marked)
}

#[derive(Debug, Default)]
pub struct Marked {
    pub pairs: Vec<(String, String)>,
    pub complete: bool,
}

fn append(buffer: &mut Vec<u8>, data: &[u8]) {
    let room = OUTPUT_CAP.saturating_sub(buffer.len());
    buffer.extend_from_slice(&data[..data.len().min(room)]);
}
