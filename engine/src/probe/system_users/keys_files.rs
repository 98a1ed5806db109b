//! The authorized keys files sshd reads for one user (its effective `AuthorizedKeysFile`, as
//! `sshd -T` gives it), whether the key is in one of them, and what sshd's StrictModes and
//! the user's own access make of the file that holds it and the directories above it.

use crate::category::Category;

/// What the diagnosis found in one file sshd reads for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// The file holds the system user's key.
    Present,
    /// The file holds other keys only.
    Absent,
    Missing,
    /// Something else than a regular file stands there.
    NotAFile,
    /// No public key was known to look for.
    Unchecked,
}

impl KeyState {
    fn parse(text: &str) -> Option<KeyState> {
        Some(match text {
            "present" => KeyState::Present,
            "absent" => KeyState::Absent,
            "missing" => KeyState::Missing,
            "notfile" => KeyState::NotAFile,
            "unchecked" => KeyState::Unchecked,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    pub path: String,
    pub owner: String,
    pub group: String,
    pub mode: u32,
    pub kind: String,
}

impl PathStat {
    /// `owner|group|mode|kind|path`, as the script prints `stat -c '%U|%G|%a|%F'` and the path.
    pub fn parse(text: &str) -> Option<PathStat> {
        let parts: Vec<&str> = text.splitn(5, '|').collect();
        let [owner, group, mode, kind, path] = parts[..] else {
            return None;
        };
        Some(PathStat {
            path: path.to_string(),
            owner: owner.to_string(),
            group: group.to_string(),
            mode: u32::from_str_radix(mode, 8).unwrap_or(0),
            kind: kind.to_string(),
        })
    }
}

/// One file of the user's effective AuthorizedKeysFile, expanded (`%h`, `%u`, `%U`, `%%`) and
/// made absolute against the home, as sshd does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysFile {
    pub path: String,
    /// `None` for a state this version does not know.
    pub key: Option<KeyState>,
    /// The file, then each directory above it up to the home (for a file inside it) or `/`:
    /// the path StrictModes checks and the user must be able to walk.
    pub chain: Vec<PathStat>,
}

impl KeysFile {
    /// `state|path`, as the script prints it.
    pub fn parse(text: &str) -> Option<KeysFile> {
        let (state, path) = text.split_once('|')?;
        Some(KeysFile {
            path: path.to_string(),
            key: KeyState::parse(state),
            chain: Vec::new(),
        })
    }

    fn described(&self) -> String {
        let what = match self.key {
            Some(KeyState::Absent) => "holds other keys",
            Some(KeyState::Missing) => "does not exist",
            Some(KeyState::NotAFile) => "is not a regular file",
            Some(KeyState::Present) => "holds the key",
            Some(KeyState::Unchecked) | None => "was not searched",
        };
        format!("{} {what}", self.path)
    }
}

/// What the key files tell about the user's key: `None` when sshd finds the key in a file it
/// accepts (or nothing can be said), else the category and why.
pub fn key_cause(
    user: &str,
    groups: &[String],
    files: &[KeysFile],
    ctx: &KeyContext<'_>,
) -> Option<(Category, String)> {
    let chain_problem = |file: &KeysFile| chain_problem(user, groups, file, ctx.strict_modes);
    let holding: Vec<&KeysFile> = files
        .iter()
        .filter(|f| f.key == Some(KeyState::Present))
        .collect();
    if !holding.is_empty() {
        // sshd accepts the key from any file it reads that holds it.
        if holding.iter().any(|f| chain_problem(f).is_none()) {
            return None;
        }
        return chain_problem(holding[0]).map(|p| (Category::SystemUserHomePermissions, p));
    }
    if !ctx.key_known {
        // No key to look for (an agent's): the files' permissions are all that can be judged.
        return files
            .iter()
            .find_map(chain_problem)
            .map(|p| (Category::SystemUserHomePermissions, p));
    }
    let read = if files.is_empty() {
        "sshd reads no authorized keys file for it (AuthorizedKeysFile none)".to_string()
    } else {
        let listed: Vec<String> = files.iter().map(KeysFile::described).collect();
        format!(
            "the key is in none of the files sshd reads for it: {}",
            listed.join("; ")
        )
    };
    let guessed = ctx.error.map_or(String::new(), |e| {
        format!(" (sshd -T failed: {e}; OpenSSH's default files were read)")
    });
    match ctx.keys_command {
        // The program alone: its arguments may hold a token.
        Some(command) => Some((
            Category::AuthFailed,
            format!(
                "{user}: {read}{guessed}; sshd also asks its AuthorizedKeysCommand ({}), which the prober does not run: whether it accepts the key is not known",
                command.split_whitespace().next().unwrap_or_default()
            ),
        )),
        None => Some((
            Category::SystemUserKeyNotRegistered,
            format!("{user}: {read}{guessed}"),
        )),
    }
}

/// The file that holds the key, for a verdict that names it.
pub fn holding(files: &[KeysFile]) -> Option<&str> {
    files
        .iter()
        .find(|f| f.key == Some(KeyState::Present))
        .map(|f| f.path.as_str())
}

/// What of sshd's effective configuration, and of the credential, bears on the key files.
pub struct KeyContext<'a> {
    /// The system user's public key is known, so the files were searched for it.
    pub key_known: bool,
    pub strict_modes: bool,
    /// `AuthorizedKeysCommand`, when one is set.
    pub keys_command: Option<&'a str>,
    /// Why `sshd -T` gave no configuration, if it did not.
    pub error: Option<&'a str>,
}

/// What sshd's StrictModes refuses on the file or a directory above it, or what keeps the
/// user (sshd reads the file as the user) from reaching the file.
fn chain_problem(user: &str, groups: &[String], file: &KeysFile, strict: bool) -> Option<String> {
    for (i, stat) in file.chain.iter().enumerate() {
        if stat.kind == "missing" {
            return Some(format!("{} does not exist", stat.path));
        }
        let shown = format!(
            "{} (owner {}, group {}, mode {:o})",
            stat.path, stat.owner, stat.group, stat.mode
        );
        if strict && stat.owner != user && stat.owner != "root" {
            return Some(format!(
                "{shown} is owned by neither {user} nor root: sshd's StrictModes refuses it"
            ));
        }
        if strict && stat.mode & 0o022 != 0 {
            return Some(format!(
                "{shown} is writable by group or others: sshd's StrictModes refuses it"
            ));
        }
        let is_file = i == 0;
        let needed = if is_file { 0o4 } else { 0o1 };
        let bits = if stat.owner == user {
            stat.mode >> 6
        } else if groups.contains(&stat.group) {
            stat.mode >> 3
        } else {
            stat.mode
        };
        if bits & needed == 0 {
            let what = if is_file { "read" } else { "enter" };
            return Some(format!(
                "{shown}: {user} cannot {what} it, so sshd cannot read its keys"
            ));
        }
    }
    None
}
