//! The inspection's output from any host: no panic, a report no bigger than the output,
//! a record of bounded size, and what a host prints read back as it was.

use proptest::prelude::*;

use super::*;
use crate::category::Lang;
use crate::probe::Probed;
use crate::report::Record;

fn output(stdout: Vec<u8>) -> Output {
    Output {
        stdout,
        stderr: Vec::new(),
        status: Some(0),
    }
}

/// Output that has the script's keys, with arbitrary values, lines and bytes among them.
fn output_like() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(MARKER.to_string()),
        Just("end".to_string()),
        "(id|uname|cpus_online|sudo_rc|sudo_out|sudo_v|python|tmp|cpus|meminfo|os_PRETTY_NAME|os_ID|os_VERSION_ID)=.{0,80}",
        "id=uid=[0-9]{0,12}(\\([^)]{0,10}\\))? groups=[0-9(),a-z]{0,60}",
        "cpus_online=[0-9,-]{0,20}",
        any::<String>(),
    ];
    (proptest::collection::vec(line, 0..40), any::<Vec<u8>>())
        .prop_map(|(lines, noise)| [lines.join("\n").into_bytes(), noise].concat())
}

fn report_size(r: &Report) -> usize {
    let texts = [
        &r.user,
        &r.sudo_rc,
        &r.python,
        &r.tmp,
        &r.facts.hostname,
        &r.facts.os,
    ];
    texts
        .iter()
        .map(|t| t.as_ref().map_or(0, String::len))
        .sum::<usize>()
        + [&r.groups, &r.sudo_out, &r.sudo_v]
            .iter()
            .flat_map(|lines| lines.iter())
            .map(String::len)
            .sum::<usize>()
}

proptest! {
    #[test]
    fn any_output_is_judged_and_recorded_bounded(stdout in output_like()) {
        let size = stdout.len();
        let Ok(report) = parse(&output(stdout)) else { return Ok(()) };
        // Each field is part of one line; a byte that is not UTF-8 reads as U+FFFD.
        prop_assert!(report_size(&report) <= 3 * size);
        let mut observations = Observations::default();
        let verdict = judge(&report, &mut observations);
        let probed = Probed { verdict, observations, duration: std::time::Duration::ZERO };
        let record = Record::about("asset", "10.0.0.1", 22, probed, Lang::En);
        prop_assert!(serde_json::to_string(&record).unwrap().len() <= Record::MAX_WRITTEN);
    }

    #[test]
    fn what_a_host_prints_reads_back(
        uid in 1u32..100_000,
        user in "[a-z_][a-z0-9_-]{0,15}",
        groups in proptest::collection::vec("[a-z_][a-z0-9_-]{0,15}", 1..8),
        python in "/[a-z0-9/_.-]{1,30}",
        tmp in "/[a-z0-9/_.-]{1,30}",
        hostname in "[a-z0-9][a-z0-9.-]{0,30}",
        kernel in "[0-9][a-z0-9.+_-]{0,30}",
        arch in "[a-z0-9_]{1,10}",
        cpus in 1u32..512,
        memory_kb in 1024u64..1_000_000_000,
        os in "[A-Za-z0-9 ./()_-]{1,40}",
    ) {
        let group_list: Vec<String> = (uid..).zip(&groups).map(|(gid, g)| format!("{gid}({g})")).collect();
        let text = format!(
            "{MARKER}\nid=uid={uid}({user}) gid={uid}({user}) groups={}\nsudo_rc=0\nsudo_out=0\n\
             python={python}\ntmp={tmp}\nuname={hostname} {kernel} {arch}\ncpus_online=0-{}\n\
             meminfo=MemTotal:  {memory_kb} kB\nos_PRETTY_NAME=\"{os}\"\nend\n",
            group_list.join(","),
            cpus - 1,
        );
        let r = parse(&output(text.into_bytes())).unwrap();
        prop_assert!(r.complete);
        prop_assert_eq!(r.uid, Some(uid));
        prop_assert_eq!(r.user.as_deref(), Some(user.as_str()));
        prop_assert_eq!(&r.groups, &groups);
        prop_assert_eq!(r.python.as_deref(), Some(python.as_str()));
        prop_assert_eq!(r.tmp.as_deref(), Some(tmp.as_str()));
        prop_assert_eq!(r.facts.hostname.as_deref(), Some(hostname.as_str()));
        prop_assert_eq!(r.facts.kernel.as_deref(), Some(kernel.as_str()));
        prop_assert_eq!(r.facts.arch.as_deref(), Some(arch.as_str()));
        prop_assert_eq!(r.facts.cpus, Some(cpus));
        prop_assert_eq!(r.facts.memory_mb, Some(memory_kb / 1024));
        prop_assert_eq!(r.facts.os.as_deref(), Some(os.as_str()));
        prop_assert_eq!(sudo_of(&r), Sudo::NoPassword);
    }
}
