//! The diagnosis output from any host: no panic, findings no bigger than the output, a
//! bounded record, and what a host prints read back as it was.

use proptest::prelude::*;

use super::*;
use crate::category::Lang;
use crate::credentials::Expectations;
use crate::probe::Probed;
use crate::report::Record;

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
        "[0-3]\\.(exists|passwd|shell_listed|groups|shadow|sshd|stat|key|sudo_l|done)=.{0,80}",
        "[0-3]\\.passwd=([^:\n]{0,8}:){6,8}[^:\n]{0,8}",
        "[0-3]\\.shadow=[a-z]{0,8}(:[0-9-]{0,6}){0,8}",
        "[0-3]\\.stat=([^|\n]{0,8}\\|){4,6}[^\n]{0,20}",
        "[0-9]{0,30}\\..{0,20}=.{0,20}",
        any::<String>(),
    ];
    proptest::collection::vec(line, 0..60).prop_map(|lines| lines.join("\n"))
}

fn findings_size(f: &UserFindings) -> usize {
    let texts = [&f.home, &f.shell, &f.key];
    texts
        .iter()
        .map(|t| t.as_ref().map_or(0, String::len))
        .sum::<usize>()
        + [&f.groups, &f.sshd, &f.sudo_rules]
            .iter()
            .flat_map(|lines| lines.iter())
            .map(String::len)
            .sum::<usize>()
        + f.stats
            .iter()
            .map(|s| s.path.len() + s.owner.len() + s.group.len() + s.kind.len())
            .sum::<usize>()
}

proptest! {
    #[test]
    fn any_output_is_judged_and_recorded_bounded(stdout in output_like()) {
        let Some(d) = parse(&stdout) else { return Ok(()) };
        let size: usize = d.users.values().map(findings_size).sum();
        prop_assert!(size <= stdout.len());
        prop_assert!(d.users.len() <= stdout.lines().count());
        let cred = credential();
        let ctx = Context { credential: &cred, client_addr: None };
        for f in d.users.values() {
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
             0.stat=deploy|deploy|{mode:o}|directory|{home}\n0.key=present\n",
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
        prop_assert_eq!(f.stats[0].mode, mode);
        prop_assert_eq!(&f.stats[0].path, &home);
        prop_assert_eq!(&f.sudo_rules, &rules);
        prop_assert!(f.done);
    }
}
