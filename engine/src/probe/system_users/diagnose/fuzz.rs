//! The diagnosis output from any host: no panic, findings no bigger than the output, a
//! bounded record, and what a host prints read back as it was.

use proptest::prelude::*;

use super::*;
use crate::category::Lang;
use crate::credentials::Expectations;
use crate::probe::Probed;
use crate::report::Record;

const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIPesEvi92deOruCAQU593979K64hJdAKdn+15JFg61GN";

fn credential() -> Credential {
    Credential {
        name: "deploy-cred".into(),
        username: "deploy".into(),
        password: None,
        key: None,
        agent: None,
        found: Default::default(),
        uses: Default::default(),
        expect: Expectations::default(),
    }
}

/// Output with the script's keys for a few users, arbitrary values and lines among them.
fn output_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just(MARKER.to_string()),
        Just("end".to_string()),
        "today=[0-9-]{0,8}",
        "visudo(_rc)?=.{0,40}",
        "[0-3]\\.(exists|passwd|shell_listed|groups|shadow|sshd|sshd_error|keys_file|stat|sudo_l|done)=.{0,80}",
        "[0-3]\\.keys_file=(present|absent|missing|notfile|unchecked|[a-z]{0,8})\\|[^\n]{0,30}",
        "[0-3]\\.passwd=([^:\n]{0,8}:){6,8}[^:\n]{0,8}",
        "[0-3]\\.shadow=[a-z]{0,8}(:[0-9-]{0,6}){0,8}",
        "[0-3]\\.stat=([^|\n]{0,8}\\|){4,6}[^\n]{0,20}",
        "[0-9]{0,30}\\..{0,20}=.{0,20}",
        any::<String>(),
    ];
    proptest::collection::vec(line, 0..60).prop_map(|lines| lines.join("\n"))
}

fn findings_size(f: &UserFindings) -> usize {
    let texts = [&f.home, &f.shell, &f.sshd_error];
    texts
        .iter()
        .map(|t| t.as_ref().map_or(0, String::len))
        .sum::<usize>()
        + [&f.groups, &f.sshd, &f.sudo_rules]
            .iter()
            .flat_map(|lines| lines.iter())
            .map(String::len)
            .sum::<usize>()
        + f.keys_files
            .iter()
            .map(|k| {
                k.path.len()
                    + k.chain
                        .iter()
                        .map(|s| s.path.len() + s.owner.len() + s.group.len() + s.kind.len())
                        .sum::<usize>()
            })
            .sum::<usize>()
}

proptest! {
    #[test]
    fn any_output_is_judged_and_recorded_bounded(stdout in output_like()) {
        let Some(d) = parse(&stdout) else { return Ok(()) };
        let size: usize = d.users.values().map(findings_size).sum();
        prop_assert!(size <= stdout.len());
        prop_assert!(d.users.len() <= stdout.lines().count());
        // Without a public key (an agent's) and with one, which the key files are searched for.
        let key = russh::keys::parse_public_key_base64(KEY).unwrap();
        let with_key = Credential {
            expect: Expectations { public_key: Some(Ok(key)), ..Expectations::default() },
            ..credential()
        };
        let creds = [credential(), with_key];
        for (f, cred) in d.users.values().flat_map(|f| creds.iter().map(move |c| (f, c))) {
            let ctx = Context { credential: cred, client_addr: None };
            for login in [Login::NotTried, Login::Refused("refused".into()), Login::ShellRefused(stdout.clone())] {
                let verdict = judge(&ctx, &login, f, &d);
                let probed = Probed {
                    verdict,
                    observations: Default::default(),
                    duration: std::time::Duration::ZERO,
                };
                let record = Record::about("asset", "10.0.0.1", 22, probed, Lang::En);
                prop_assert!(serde_json::to_string(&record).unwrap().len() <= Record::MAX_WRITTEN);
            }
        }
    }

    #[test]
    fn what_a_host_prints_reads_back(
        uid in 1u32..100_000,
        home in "/[a-z0-9/_.-]{1,30}",
        shell in "/[a-z0-9/_.-]{1,30}",
        groups in proptest::collection::vec("[a-z_][a-z0-9_-]{0,15}", 1..8),
        mode in 0u32..0o7777,
        last_change in 0i64..30_000,
        expire in proptest::option::of(0i64..30_000),
        rules in proptest::collection::vec("[ -~]{1,40}", 0..5),
    ) {
        let mut text = format!(
            "{MARKER}\ntoday=20000\n0.exists=1\n0.passwd=deploy:x:{uid}:{uid}::{home}:{shell}\n\
             0.shell_listed=1\n0.groups={}\n0.shadow=set:{last_change}:0:99999:7::{}:\n\
             0.keys_file=present|{home}/.ssh/authorized_keys\n0.stat=deploy|deploy|{mode:o}|directory|{home}\n",
            groups.join(" "),
            expire.map_or(String::new(), |e| e.to_string()),
        );
        for rule in &rules {
            text.push_str(&format!("0.sudo_l={rule}\n"));
        }
        text.push_str("0.done=1\nend\n");
        let d = parse(&text).unwrap();
        prop_assert!(d.complete);
        let f = &d.users[&0];
        prop_assert_eq!(f.exists, Some(true));
        prop_assert_eq!(f.uid, Some(uid));
        prop_assert_eq!(f.home.as_deref(), Some(home.as_str()));
        prop_assert_eq!(f.shell.as_deref(), Some(shell.as_str()));
        prop_assert_eq!(&f.groups, &groups);
        let shadow = f.shadow.clone().unwrap();
        prop_assert_eq!(
            (shadow.status.as_str(), shadow.last_change, shadow.max_days, shadow.expire),
            ("set", Some(last_change), Some(99999), expire)
        );
        prop_assert_eq!(f.keys_files[0].chain[0].mode, mode);
        prop_assert_eq!(&f.keys_files[0].chain[0].path, &home);
        prop_assert_eq!(&f.sudo_rules, &rules);
        prop_assert!(f.done);
    }
}
