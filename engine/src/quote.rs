//! Everything from the inventory or the credentials file that reaches a remote shell goes
//! through here: names are validated against strict rules first, then every value is
//! single-quoted.

/// POSIX portable user names (`[A-Za-z0-9._-]`, not starting with `-`), further limited as
/// `useradd` limits them: starting with a letter or `_`, at most 32 characters.
pub fn check_user_name(name: &str) -> Result<(), String> {
    let shown = crate::text::shown(name);
    if name.is_empty() {
        return Err("user name is empty".into());
    }
    if name.len() > 32 {
        return Err(format!(
            "user name \"{shown}\" is {} characters long (at most 32)",
            name.chars().count()
        ));
    }
    let mut chars = name.chars();
    let first = chars.next().unwrap_or('-');
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(format!(
            "user name \"{shown}\" must start with a letter or _"
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(format!(
            "user name \"{shown}\" has characters outside the POSIX portable set [A-Za-z0-9._-]"
        ));
    }
    Ok(())
}

/// A single-quoted shell word: safe for any value, even one with quotes or newlines.
pub fn sh(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused() {
        for name in [
            "a;reboot",
            "$(id)",
            "../x",
            "-rf",
            "root name",
            "a\nb",
            "é",
            "",
            &"a".repeat(200),
        ] {
            assert!(check_user_name(name).is_err(), "{name:?} accepted");
        }
        for name in ["deploy", "app_user", "svc-web.1", "_apt"] {
            assert!(check_user_name(name).is_ok(), "{name:?} refused");
        }
    }

    #[test]
    fn quoting_survives_the_shell() {
        use std::process::Command;
        for value in [
            "plain",
            "it's",
            "$(id) `id` ${HOME}",
            "a\nb",
            "'; reboot; '",
            "\\",
        ] {
            let script = format!("printf %s {}", sh(value));
            let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), value, "{script}");
        }
    }
}
