//! Property test of [`Credentials::load`] on arbitrary TOML-ish text: it never panics, and
//! nothing it says (errors, warnings, debug output) repeats a password the text holds,
//! however malformed the text around it.

use std::io::Write;

use proptest::prelude::*;

use super::*;

/// A secret unlike any other word of the text, so finding it means it leaked.
fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        "Zq[A-Za-z0-9]{10,16}",
        // A numeric password written without quotes is a TOML integer.
        "9[0-9]{9,15}",
        "Zq[A-Za-z0-9 _.-]{6,12}[a-z]",
    ]
}

fn line(secret: String) -> impl Strategy<Value = String> {
    let word = "[a-z][a-z0-9_-]{0,8}";
    prop_oneof![
        word.prop_map(|w| format!("[credentials.{w}]\n")),
        word.prop_map(|w| format!("[gateways.{w}]\n")),
        word.prop_map(|w| format!("username = \"{w}\"\n")),
        Just("host = \"10.0.0.1\"\nport = 70000\n".to_string()),
        Just("password_env = \"PROBER_TEST_UNSET\"\nagent = true\nuid = -1\n".to_string()),
        Just("key = \"missing.key\"\nkey_passphrase_env = \"PROBER_TEST_UNSET\"\n".to_string()),
        // The secret, in every shape a person may write it.
        prop::sample::select(vec![
            "password = \"{}\"\n",
            "password = '{}'\n",
            "password = {}\n",
            "password = \"{}\n",
            "password: \"{}\"\n",
            "password = \"\"\"{}\"\"\"\n",
            "password = [\"{}\"]\n",
            "password = {{ value = \"{}\" }}\n",
            "password_env = \"{}\"\npassword = \"{}\"\n",
            "password = \"{}\" \"{}\"\n",
        ])
        .prop_map(move |shape| shape
            .replace("{}", &secret)
            .replace("{{", "{")
            .replace("}}", "}")),
        "[ \n=\"'\\[\\].a-z#]{0,8}",
    ]
}

/// Mostly a well-formed table with a line or two wrong, so that the secret's own line is
/// what the parser meets, and now and then anything.
fn text() -> impl Strategy<Value = (String, String)> {
    secret().prop_flat_map(|secret| {
        let table = prop::sample::select(vec![
            "[credentials.a]\nusername = \"root\"\n",
            "[gateways.g]\nhost = \"10.0.0.1\"\nusername = \"root\"\n",
            "",
        ]);
        let lines = prop::collection::vec(line(secret.clone()), 0..6);
        let text = (table, lines).prop_map(|(table, lines)| format!("{table}{}", lines.concat()));
        (Just(secret), text)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn nothing_said_about_a_credentials_file_repeats_its_passwords((secret, text) in text()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.toml");
        std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
        let said = match Credentials::load(&path) {
            Ok(credentials) => format!("{:?}\n{}", credentials, credentials.warnings.join("\n")),
            Err(error) => format!("{error}\n{error:?}"),
        };
        prop_assert!(!said.contains(&secret), "{said}\n--- from ---\n{text}");
    }
}
