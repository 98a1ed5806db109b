//! Micro-benchmarks of the hot paths profiling found: known_hosts checks and learning with
//! 100,000 entries, reading an inventory, and parsing an inspection's output. Run by
//! `scripts/bench.sh` (`cargo bench -p prober-engine --bench hot_paths`).

use std::io::Cursor;
use std::path::Path;

use divan::Bencher;
use prober_engine::address::known_hosts_name;
use prober_engine::inventory::InventoryReader;
use prober_engine::known_hosts::KnownHosts;
use prober_engine::probe::exec::Output;
use prober_engine::probe::inspect;
use russh::keys::{Algorithm, PrivateKey, PublicKey};

const ENTRIES: usize = 100_000;

fn main() {
    divan::main();
}

fn key() -> PublicKey {
    PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519)
        .expect("key generation")
        .public_key()
        .clone()
}

fn host(i: usize) -> String {
    known_hosts_name(
        &format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
        22,
    )
}

/// A known_hosts file of `ENTRIES` hosts, one line each, as a fleet's bastion keeps it.
fn known_hosts_file(dir: &Path) -> (std::path::PathBuf, Vec<PublicKey>) {
    // Keys are the costly part to make; a few shared ones are enough for lookups.
    let keys: Vec<PublicKey> = (0..16).map(|_| key()).collect();
    let mut text = String::with_capacity(ENTRIES * 100);
    for i in 0..ENTRIES {
        let line = keys[i % keys.len()].to_openssh().expect("encodes");
        text.push_str(&format!("{} {line}\n", host(i)));
    }
    let path = dir.join("known_hosts");
    std::fs::write(&path, text).expect("write known_hosts");
    (path, keys)
}

#[divan::bench(sample_count = 10)]
fn known_hosts_load_100k(bencher: Bencher) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = known_hosts_file(dir.path());
    bencher.bench(|| KnownHosts::load(&path).expect("loads"));
}

#[divan::bench]
fn known_hosts_check_in_100k(bencher: Bencher) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, keys) = known_hosts_file(dir.path());
    let known_hosts = KnownHosts::load(&path).expect("loads");
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 7919) % ENTRIES;
        known_hosts.check(&[host(i)], &keys[i % keys.len()])
    });
}

/// Learning appends a line and remembers the key; later checks must find it among
/// `ENTRIES` learned before it.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn known_hosts_learn_100k(bencher: Bencher) {
    let keys: Vec<PublicKey> = (0..16).map(|_| key()).collect();
    bencher
        .with_inputs(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let known_hosts = KnownHosts::load(&dir.path().join("known_hosts")).expect("loads");
            (dir, known_hosts)
        })
        .bench_local_values(|(dir, known_hosts)| {
            for i in 0..ENTRIES {
                known_hosts
                    .learn(&host(i), &keys[i % keys.len()])
                    .expect("learns");
            }
            drop(dir);
        });
}

fn inventory_csv(rows: usize) -> Vec<u8> {
    let mut text = String::from("name,host,port,admin_user,system_users,gateway,platform,active\n");
    for i in 0..rows {
        text.push_str(&format!(
            "web-{i},{},22,ops-root,deploy;app,,Linux,true\n",
            host(i)
        ));
    }
    text.into_bytes()
}

#[divan::bench(sample_count = 10)]
fn inventory_read_100k_rows(bencher: Bencher) {
    let csv = inventory_csv(ENTRIES);
    bencher.bench(|| {
        let source = Box::new(Cursor::new(csv.clone()));
        InventoryReader::from_reader(Path::new("inventory.csv"), source, &Default::default())
            .expect("opens")
            .count()
    });
}

/// What the inspection script prints on a sudo admin's Debian host.
const INSPECTION: &str = "prober-inspect 1\n\
    id=uid=1000(admin) gid=1000(admin) groups=1000(admin),27(sudo)\n\
    sudo_rc=0\nsudo_out=0\npython=/usr/bin/python3\ntmp=/tmp\n\
    uname=web-1 6.1.0-18-amd64 x86_64\ncpus_online=0-3\nmeminfo=MemTotal:        8144412 kB\n\
    os_PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nos_ID=debian\nos_VERSION_ID=\"12\"\nend\n";

#[divan::bench]
fn inspection_parse(bencher: Bencher) {
    let output = Output {
        stdout: INSPECTION.as_bytes().to_vec(),
        ..Output::default()
    };
    bencher.bench(|| inspect::parse(&output).expect("parses"));
}
