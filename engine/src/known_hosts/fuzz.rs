//! known_hosts lines from anywhere: no panic, output no bigger than the line, and the
//! lines we write read back as what they say.

use proptest::prelude::*;
use russh::keys::PrivateKey;

use super::*;

fn key() -> PublicKey {
    PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519)
        .unwrap()
        .public_key()
        .clone()
}

/// A host name or address as known_hosts writes it, `[host]:port` included.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9][a-z0-9.-]{0,30}",
        "\\[[0-9.]{1,15}\\]:[0-9]{1,5}",
        "[0-9a-f:]{2,39}",
    ]
}

/// Text that looks like a known_hosts line in parts, arbitrary in others.
fn line_like() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just("@revoked".to_string()),
        Just("@cert-authority".to_string()),
        Just("ssh-ed25519".to_string()),
        Just("AAAAC3NzaC1lZDI1NTE5AAAAIA==".to_string()),
        Just("|1|c2FsdA==|aGFzaA==".to_string()),
        Just("|1|not base64|".to_string()),
        "[!*?,a-z0-9.\\[\\]:|]{0,40}",
        any::<String>(),
    ];
    proptest::collection::vec(field, 0..6).prop_map(|fields| fields.join(" "))
}

proptest! {
    #[test]
    fn any_line_parses_without_panic_into_no_more_than_it_says(line in line_like()) {
        if let Some(parsed) = parse_line(7, &line) {
            prop_assert_eq!(parsed.number, 7);
            prop_assert!(parsed.patterns.len() <= line.matches(',').count() + 1);
            // Matching any name against what was parsed terminates too.
            let _ = parsed.matches("web.example");
            let _ = parsed.matches(&line);
        }
    }

    #[test]
    fn written_lines_read_back(names in proptest::collection::vec(name(), 1..5), revoked in any::<bool>()) {
        let key = key();
        let marker = if revoked { "@revoked " } else { "" };
        let line = format!("{marker}{} {}", names.join(","), key.to_openssh().unwrap());
        let parsed = parse_line(1, &line).expect("a line we write parses");
        prop_assert_eq!(parsed.revoked, revoked);
        prop_assert_eq!(parsed.key.key_data(), key.key_data());
        for name in &names {
            prop_assert!(parsed.matches(name), "{} in {}", name, line);
            prop_assert!(parsed.matches(&name.to_uppercase()));
        }
        if !names.iter().any(|n| n.contains(['*', '?'])) {
            let lowered: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
            prop_assert_eq!(parsed.exact_names().unwrap(), lowered);
        }
    }

    #[test]
    fn negation_wins_over_any_match(name in name()) {
        let line = format!("*,!{name} {}", key().to_openssh().unwrap());
        let parsed = parse_line(1, &line).unwrap();
        prop_assert!(!parsed.matches(&name));
    }
}
