//! The compose fixtures' files held to docker-compose.yml, without docker.
//!
//! docker-compose.yml is the one place a fixture's address is declared; the scripts ask the
//! running containers for it (`addr` in scripts/lib-fixtures.sh). The prober's input files
//! (the inventories, the jump hosts of credentials.toml, the options of expected.csv, the koko
//! registry, known_hosts) and the README's table must spell addresses out, so these tests
//! check every one of them against docker-compose.yml, and check that every service is
//! probed by an inventory row, expected by a row of expected.csv and checked by fidelity.sh.
//! The parsing here is shared with tests/compose.rs, which runs the rows against the lab.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Addresses in the lab's subnets that no service has, on purpose: each is there for what the
/// prober (or OpenSSH) must say about an address where nothing is.
const UNUSED: &[(&str, &str)] = &[
    (
        "172.29.77.99",
        "no such asset: the koko gateway knows none there",
    ),
    (
        "172.29.78.99",
        "behind the jump host, nothing answers there",
    ),
];

/// The results `prober gateway` gives on the gateway itself, beside the inventory's rows.
pub use prober_engine::probe::KOKO_RESULTS as GATEWAY_RESULTS;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    let path = repo().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rows of a small CSV file (no quoting; `#` comment lines) as maps from header to value.
fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|line| {
            let values: Vec<&str> = line.splitn(header.len(), ',').collect();
            header
                .iter()
                .cloned()
                .zip(values.iter().map(|v| v.to_string()))
                .collect()
        })
        .collect()
}

fn fixture_csv(name: &str) -> Vec<BTreeMap<String, String>> {
    read_csv(&repo().join("fixtures").join(name))
}

fn fixture_toml(name: &str) -> toml::Table {
    read(&format!("fixtures/{name}"))
        .parse()
        .unwrap_or_else(|e| panic!("fixtures/{name}: {e}"))
}

/// Fails with every problem found, one a line.
fn assert_none(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

// ---- docker-compose.yml ----------------------------------------------------------------------

#[derive(Deserialize)]
struct ComposeFile {
    services: BTreeMap<String, ComposeService>,
    networks: BTreeMap<String, ComposeNetwork>,
}

#[derive(Deserialize)]
struct ComposeService {
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    networks: BTreeMap<String, Option<Attachment>>,
}

#[derive(Deserialize)]
struct Attachment {
    ipv4_address: Option<Ipv4Addr>,
}

#[derive(Deserialize)]
struct ComposeNetwork {
    name: Option<String>,
    #[serde(default)]
    internal: bool,
    ipam: Ipam,
}

#[derive(Deserialize)]
struct Ipam {
    config: Vec<IpamConfig>,
}

#[derive(Deserialize)]
struct IpamConfig {
    subnet: String,
}

pub struct Network {
    /// Docker's name for it (`name:`), which the scripts use.
    pub name: String,
    /// No address of this machine is on it: only the jump hosts and the gateway reach it.
    pub internal: bool,
    pub subnet: String,
    base: u32,
    mask: u32,
}

impl Network {
    fn contains(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & self.mask == self.base
    }
}

/// The services and networks of docker-compose.yml.
pub struct Lab {
    /// Service → network → the service's fixed address on it.
    pub services: BTreeMap<String, BTreeMap<String, Ipv4Addr>>,
    pub networks: BTreeMap<String, Network>,
    /// Service → its SCENARIO (a file in fixtures/containers/scenarios/).
    scenarios: BTreeMap<String, String>,
}

impl Lab {
    pub fn load() -> Lab {
        let mut value: serde_norway::Value = serde_norway::from_str(&read("docker-compose.yml"))
            .unwrap_or_else(|e| panic!("docker-compose.yml: {e}"));
        // The services take their common settings from an anchor (`<<: *fixture`).
        value.apply_merge().expect("docker-compose.yml: merge keys");
        let file: ComposeFile =
            serde_norway::from_value(value).unwrap_or_else(|e| panic!("docker-compose.yml: {e}"));

        let networks = file
            .networks
            .into_iter()
            .map(|(key, network)| {
                let [config] = &network.ipam.config[..] else {
                    panic!("docker-compose.yml: network {key} needs exactly one subnet");
                };
                let (base, bits): (Ipv4Addr, u32) = config
                    .subnet
                    .split_once('/')
                    .and_then(|(base, bits)| Some((base.parse().ok()?, bits.parse().ok()?)))
                    .unwrap_or_else(|| panic!("network {key}: bad subnet {}", config.subnet));
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                let network = Network {
                    name: network.name.unwrap_or_else(|| key.clone()),
                    internal: network.internal,
                    subnet: config.subnet.clone(),
                    base: u32::from(base) & mask,
                    mask,
                };
                (key, network)
            })
            .collect();
        let mut services = BTreeMap::new();
        let mut scenarios = BTreeMap::new();
        for (name, service) in file.services {
            let addresses = service
                .networks
                .into_iter()
                .map(|(network, attachment)| {
                    let address = attachment.and_then(|a| a.ipv4_address).unwrap_or_else(|| {
                        panic!("docker-compose.yml: {name} has no fixed ipv4_address on {network}")
                    });
                    (network, address)
                })
                .collect();
            services.insert(name.clone(), addresses);
            if let Some(scenario) = service.environment.get("SCENARIO") {
                scenarios.insert(name, scenario.clone());
            }
        }
        Lab {
            services,
            networks,
            scenarios,
        }
    }

    /// The service, and its network, that has this address.
    fn service_at(&self, address: Ipv4Addr) -> Option<(&str, &str)> {
        self.services.iter().find_map(|(service, addresses)| {
            addresses
                .iter()
                .find(|(_, a)| **a == address)
                .map(|(network, _)| (service.as_str(), network.as_str()))
        })
    }

    fn network_of(&self, address: Ipv4Addr) -> Option<&Network> {
        self.networks.values().find(|n| n.contains(address))
    }

    /// Whether `host` is an address only a jump host or the gateway can reach.
    pub fn is_internal(&self, host: &str) -> bool {
        host.parse()
            .ok()
            .and_then(|a| self.network_of(a))
            .is_some_and(|n| n.internal)
    }

    /// The service with this address, if `host` is one of the lab's addresses.
    fn service_of(&self, host: &str) -> Option<&str> {
        self.service_at(host.parse().ok()?).map(|(s, _)| s)
    }

    /// Why `host` is not an address the prober may be given, from here or from inside the lab.
    fn check_address(&self, host: &str, reach: Reach) -> Result<(), String> {
        let address: Ipv4Addr = host
            .parse()
            .map_err(|_| format!("{host} is not an IPv4 address"))?;
        let network = match self.service_at(address) {
            Some((_, network)) => &self.networks[network],
            None if UNUSED.iter().any(|(a, _)| *a == host) => self
                .network_of(address)
                .ok_or_else(|| format!("{host} (deliberately unused) is on no lab network"))?,
            None => {
                return Err(format!(
                    "{host} is no compose service's address (nor in UNUSED, the deliberately unused ones)"
                ));
            }
        };
        if reach == Reach::Here && network.internal {
            let owner = self.service_at(address).map_or("nothing", |(s, _)| s);
            return Err(format!(
                "{host} ({owner}) is on {}, which this machine cannot reach: probe it through a jump host",
                network.name
            ));
        }
        Ok(())
    }

    /// The lab network this machine is on, whose addresses the README's table abbreviates.
    fn lab_network(&self) -> &Network {
        let mut outside = self.networks.values().filter(|n| !n.internal);
        let (Some(lab), None) = (outside.next(), outside.next()) else {
            panic!("docker-compose.yml: expected exactly one network that is not internal");
        };
        lab
    }
}

/// Who connects to an address: this machine, or a jump host or the koko gateway, which are on
/// every network of the lab.
#[derive(Clone, Copy, PartialEq)]
enum Reach {
    Here,
    Inside,
}

// ---- the files that spell addresses out ------------------------------------------------------

pub struct Fixtures {
    pub inventory: Vec<BTreeMap<String, String>>,
    pub through_gateway: Vec<BTreeMap<String, String>>,
    pub expected: Vec<BTreeMap<String, String>>,
    /// Jump host name → its address (credentials.toml's `[gateways.*] host`).
    jump_hosts: BTreeMap<String, String>,
    /// koko's asset name → its address (fixtures/koko/registry.toml).
    koko_assets: BTreeMap<String, String>,
}

impl Fixtures {
    pub fn load() -> Fixtures {
        let host_of = |table: &toml::Table, section: &str, key: &str| -> BTreeMap<String, String> {
            let Some(entries) = table.get(section).and_then(|s| s.as_table()) else {
                return BTreeMap::new();
            };
            entries
                .iter()
                .map(|(name, entry)| {
                    let host = entry.get(key).and_then(|h| h.as_str());
                    let host = host.unwrap_or_else(|| panic!("{section}.{name} has no {key}"));
                    (name.clone(), host.to_string())
                })
                .collect()
        };
        Fixtures {
            inventory: fixture_csv("inventory.csv"),
            through_gateway: fixture_csv("gateway-inventory.csv"),
            expected: fixture_csv("expected.csv"),
            jump_hosts: host_of(&fixture_toml("credentials.toml"), "gateways", "host"),
            koko_assets: host_of(&fixture_toml("koko/registry.toml"), "assets", "address"),
        }
    }

    /// The addresses in the options of expected.csv's rows (`--nameserver`, `--gateway`),
    /// which this machine connects to.
    fn option_addresses(row: &BTreeMap<String, String>) -> Vec<String> {
        let words: Vec<&str> = row["options"].split_whitespace().collect();
        words
            .windows(2)
            .filter(|w| w[0] == "--nameserver" || w[0] == "--gateway")
            .map(|w| w[1].split(':').next().unwrap().to_string())
            .collect()
    }

    /// Every address the prober is given, where it is written and who connects to it.
    fn addresses(&self) -> Vec<(String, String, Reach)> {
        let mut uses = Vec::new();
        for row in &self.inventory {
            let reach = if row["gateway"].is_empty() {
                Reach::Here
            } else {
                Reach::Inside
            };
            // A name is the lab DNS server's to answer (checked in the test below).
            if is_address(&row["host"]) {
                uses.push((
                    format!("inventory.csv {}", row["name"]),
                    row["host"].clone(),
                    reach,
                ));
            }
        }
        for (name, host) in &self.jump_hosts {
            uses.push((
                format!("credentials.toml [gateways.{name}]"),
                host.clone(),
                Reach::Here,
            ));
        }
        for row in &self.through_gateway {
            // A name is one of koko's assets (checked in the test below), whose address is.
            if is_address(&row["host"]) {
                let at = format!("gateway-inventory.csv {}", row["name"]);
                uses.push((at, row["host"].clone(), Reach::Inside));
            }
        }
        for (name, address) in &self.koko_assets {
            uses.push((
                format!("koko/registry.toml [assets.{name}]"),
                address.clone(),
                Reach::Inside,
            ));
        }
        for row in &self.expected {
            for address in Self::option_addresses(row) {
                let at = format!("expected.csv {} {}", row["name"], row["options"]);
                uses.push((at, address, Reach::Here));
            }
        }
        for line in read("fixtures/known_hosts").lines() {
            let Some(hosts) = line
                .split_whitespace()
                .next()
                .filter(|h| !h.starts_with('#'))
            else {
                continue;
            };
            for host in hosts.split(',') {
                let host = host.trim_start_matches('[').split(']').next().unwrap();
                uses.push(("known_hosts".to_string(), host.to_string(), Reach::Here));
            }
        }
        uses
    }

    /// The inventory row an expected.csv row names, None for the gateway's own results.
    fn inventory_row(
        &self,
        expected: &BTreeMap<String, String>,
    ) -> Option<&BTreeMap<String, String>> {
        let rows = match expected["command"].as_str() {
            "gateway" => &self.through_gateway,
            _ => &self.inventory,
        };
        rows.iter().find(|r| r["name"] == expected["name"])
    }

    /// The services an inventory row (of either inventory) reaches: its host, and its jump
    /// host.
    fn services_of_row<'a>(&self, lab: &'a Lab, row: &BTreeMap<String, String>) -> Vec<&'a str> {
        let host = self.koko_assets.get(&row["host"]).unwrap_or(&row["host"]);
        let jump = row.get("gateway").and_then(|g| self.jump_hosts.get(g));
        [Some(host), jump]
            .into_iter()
            .flatten()
            .filter_map(|h| lab.service_of(h))
            .collect()
    }

    /// The services an expected.csv row reaches: its inventory row's, and the gateway or name
    /// server of its options.
    fn services_of_expected<'a>(
        &self,
        lab: &'a Lab,
        row: &BTreeMap<String, String>,
    ) -> Vec<&'a str> {
        let mut services: Vec<&str> = Self::option_addresses(row)
            .iter()
            .filter_map(|a| lab.service_of(a))
            .collect();
        if let Some(asset) = self.inventory_row(row) {
            services.extend(self.services_of_row(lab, asset));
        }
        services
    }
}

fn is_address(host: &str) -> bool {
    host.parse::<Ipv4Addr>().is_ok()
}

/// Every IPv4 address (or subnet, `a.b.c.d/n`) written in `text`, except loopback and 0.0.0.0.
fn written_addresses(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '/'))
        .map(|word| word.trim_end_matches('.'))
        .filter(|word| {
            let address = word.split('/').next().unwrap();
            address
                .parse::<Ipv4Addr>()
                .is_ok_and(|a| !a.is_loopback() && !a.is_unspecified())
        })
        .map(String::from)
        .collect()
}

/// fidelity.sh's checks: the NAME of every `check_NAME() {`.
fn fidelity_checks() -> Vec<String> {
    read("scripts/fidelity.sh")
        .lines()
        .filter_map(|line| line.strip_prefix("check_")?.split_once("() {"))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// The README's section on the compose fixtures.
fn readme_section() -> String {
    let readme = read("README.md");
    let start = readme
        .find("### Real OpenSSH hosts in docker compose")
        .expect("README.md: no section 'Real OpenSSH hosts in docker compose'");
    let rest = &readme[start..];
    let end = ["\n## ", "\n### "]
        .iter()
        .filter_map(|heading| rest[1..].find(heading).map(|i| i + 1))
        .min()
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

// ---- the tests -------------------------------------------------------------------------------

#[test]
fn every_address_given_to_the_prober_is_a_compose_service_on_a_network_it_reaches() {
    let lab = Lab::load();
    let fixtures = Fixtures::load();
    let mut problems: Vec<String> = fixtures
        .addresses()
        .into_iter()
        .filter_map(|(at, host, reach)| {
            lab.check_address(&host, reach)
                .err()
                .map(|e| format!("{at}: {e}"))
        })
        .collect();
    for (address, why) in UNUSED {
        let parsed: Ipv4Addr = address.parse().unwrap();
        if let Some((service, _)) = lab.service_at(parsed) {
            problems.push(format!(
                "{address} is meant to be unused ({why}) but is {service}'s address"
            ));
        }
    }
    for row in &fixtures.inventory {
        if !row["gateway"].is_empty() && !fixtures.jump_hosts.contains_key(&row["gateway"]) {
            problems.push(format!(
                "inventory.csv {}: jump host {} is not in credentials.toml [gateways]",
                row["name"], row["gateway"]
            ));
        }
    }
    for row in &fixtures.inventory {
        // Only the lab's DNS server may be asked for a name: no query may leave the machine.
        let host = &row["host"];
        let runs = fixtures
            .expected
            .iter()
            .filter(|e| e["name"] == row["name"]);
        for run in runs.filter(|e| !is_address(host) && !e["options"].contains("--nameserver ")) {
            problems.push(format!(
                "expected.csv {} {}: {host} is a name, and no --nameserver is given",
                run["name"], run["command"]
            ));
        }
    }
    for row in &fixtures.through_gateway {
        let host = &row["host"];
        if !is_address(host) && !fixtures.koko_assets.contains_key(host) {
            problems.push(format!(
                "gateway-inventory.csv {}: {host} is neither an address nor an asset of koko/registry.toml",
                row["name"]
            ));
        }
    }
    assert_none(problems, "addresses not matching docker-compose.yml");
}

#[test]
fn scripts_scenarios_and_readme_write_only_compose_addresses() {
    let lab = Lab::load();
    let subnets: BTreeSet<&str> = lab.networks.values().map(|n| n.subnet.as_str()).collect();
    let known = |written: &str| match written.split_once('/') {
        Some(_) => subnets.contains(written),
        None => lab.service_of(written).is_some() || UNUSED.iter().any(|(a, _)| *a == written),
    };
    let mut files = vec![
        "scripts/lib-fixtures.sh".to_string(),
        "scripts/bench/compare.py".to_string(),
        "fixtures/inventory.csv".to_string(),
        "fixtures/gateway-inventory.csv".to_string(),
        "fixtures/expected.csv".to_string(),
        "fixtures/credentials.toml".to_string(),
        "fixtures/koko/registry.toml".to_string(),
        "fixtures/known_hosts".to_string(),
    ];
    let scenarios = repo().join("fixtures/containers/scenarios");
    for entry in std::fs::read_dir(&scenarios).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        files.push(format!("fixtures/containers/scenarios/{name}"));
    }
    let mut problems = Vec::new();
    let mut texts: Vec<(String, String)> = files.iter().map(|f| (f.clone(), read(f))).collect();
    texts.push(("README.md (compose section)".to_string(), readme_section()));
    for (file, text) in &texts {
        for written in written_addresses(text) {
            if !known(&written) {
                problems.push(format!(
                    "{file}: {written} is no compose service's address or network's subnet"
                ));
            }
        }
    }
    // fidelity.sh asks the running containers (`addr SERVICE`) instead of writing addresses.
    for written in written_addresses(&read("scripts/fidelity.sh")) {
        if !UNUSED.iter().any(|(a, _)| *a == written) {
            problems.push(format!(
                "scripts/fidelity.sh: {written} written out; use $(addr SERVICE) (or $INTERNAL_SUBNET)"
            ));
        }
    }
    // dnsmasq's records name the fixture they point at: NAME.lab.test is NAME's address.
    for record in read("fixtures/containers/scenarios/dns.sh")
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("--host-record="))
    {
        let (name, address) = record.split_once(',').unwrap();
        let service = name.split('.').next().unwrap();
        if lab.service_of(address) != Some(service) {
            problems.push(format!(
                "scenarios/dns.sh: {name} → {address}, which is not {service}'s address"
            ));
        }
    }
    // The networks the scripts name, and the subnet they make unreachable.
    let lib = read("scripts/lib-fixtures.sh");
    let var = |name: &str| {
        lib.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("scripts/lib-fixtures.sh sets no {name}"))
            .trim_matches('"')
            .to_string()
    };
    let network = |name: &str| lab.networks.values().find(|n| n.name == name);
    match network(&var("LAB_NETWORK")) {
        Some(n) if !n.internal => {}
        _ => problems.push("lib-fixtures.sh: LAB_NETWORK is not compose's lab network".to_string()),
    }
    match network(&var("INTERNAL_NETWORK")) {
        Some(n) if n.internal && n.subnet == var("INTERNAL_SUBNET") => {}
        _ => problems.push(
            "lib-fixtures.sh: INTERNAL_NETWORK / INTERNAL_SUBNET are not compose's internal network and its subnet"
                .to_string(),
        ),
    }
    assert_none(
        problems,
        "addresses written out that docker-compose.yml does not declare",
    );
}

/// The README's table of fixtures, made from the files a fixture is added to: each compose
/// service and its addresses (`.N` on the lab network), its scenario file's first line (how it
/// is made) and what fixtures/expected.csv wants of the rows that reach it.
fn fixture_table(lab: &Lab, fixtures: &Fixtures) -> String {
    let lab_prefix = format!("{}.", lab.lab_network().subnet.rsplit_once('.').unwrap().0);
    let mut table =
        String::from("| fixture | address | how it is made | expected |\n|---|---|---|---|\n");
    for (service, addresses) in &lab.services {
        let addresses: Vec<String> = addresses
            .values()
            .map(|a| {
                let a = a.to_string();
                a.strip_prefix(&lab_prefix)
                    .map_or(a.clone(), |n| format!(".{n}"))
            })
            .collect();
        let scenario = lab
            .scenarios
            .get(service)
            .map_or(service.as_str(), String::as_str);
        let how = read(&format!("fixtures/containers/scenarios/{scenario}.sh"));
        let how = how
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches('#')
            .trim();
        // By how the prober runs, a plain check first: `ok`, `auth_failed`; with
        // `--compat legacy`: `ok`; prepush: `push_uid_taken`.
        let mut expected: Vec<(String, Vec<String>)> = vec![(String::new(), Vec::new())];
        for row in &fixtures.expected {
            let services = fixtures.services_of_expected(lab, row);
            if !services.contains(&service.as_str()) {
                continue;
            }
            let category = format!("`{}`", row["category"]);
            let how = match (row["command"].as_str(), row["options"].as_str()) {
                ("check", "") => String::new(),
                ("check", options) => format!("with `{options}`: "),
                (command, _) => format!("{command}: "),
            };
            match expected.iter_mut().find(|(h, _)| *h == how) {
                Some((_, categories)) if categories.contains(&category) => {}
                Some((_, categories)) => categories.push(category),
                None => expected.push((how, vec![category])),
            }
        }
        let expected: Vec<String> = expected
            .into_iter()
            .filter(|(_, categories)| !categories.is_empty())
            .map(|(how, categories)| format!("{how}{}", categories.join(", ")))
            .collect();
        table.push_str(&format!(
            "| {service} | {} | {how} | {} |\n",
            addresses.join(", "),
            expected.join("; ")
        ));
    }
    table
}

/// Set PROBER_BLESS=1 to write the generated table into the README instead of failing.
#[test]
fn readme_fixture_table_is_generated_from_the_fixtures_files() {
    let table = fixture_table(&Lab::load(), &Fixtures::load());
    let readme = read("README.md");
    let (before, rest) = readme
        .split_once(FIXTURES_START)
        .expect("README.md marks its table of fixtures");
    let (copy, after) = rest
        .split_once(FIXTURES_END)
        .expect("README.md marks the end of its table of fixtures");
    if copy == table {
        return;
    }
    if std::env::var_os("PROBER_BLESS").is_some() {
        let updated = format!("{before}{FIXTURES_START}{table}{FIXTURES_END}{after}");
        std::fs::write(repo().join("README.md"), updated).expect("write README.md");
        return;
    }
    panic!(
        "README.md's table of fixtures differs from what docker-compose.yml, the scenario files' \
         first lines and fixtures/expected.csv say; run PROBER_BLESS=1 cargo test --test integration \
         readme_fixture_table to regenerate it.\nExpected:\n{table}"
    );
}

const FIXTURES_START: &str = "<!-- fixtures: generated -->\n";
const FIXTURES_END: &str = "<!-- fixtures: end -->";

#[test]
fn every_service_is_probed_expected_and_checked_by_fidelity() {
    let lab = Lab::load();
    let fixtures = Fixtures::load();
    // The gateway and the name server are given on the command line, not in an inventory.
    let in_options = (fixtures.expected.iter())
        .flat_map(Fixtures::option_addresses)
        .filter_map(|a| lab.service_of(&a));
    let in_inventory: BTreeSet<&str> = (fixtures.inventory.iter())
        .chain(&fixtures.through_gateway)
        .flat_map(|row| fixtures.services_of_row(&lab, row))
        .chain(in_options)
        .collect();
    let expected: BTreeSet<&str> = fixtures
        .expected
        .iter()
        .flat_map(|row| fixtures.services_of_expected(&lab, row))
        .collect();
    let checks = fidelity_checks();
    let scenarios = repo().join("fixtures/containers/scenarios");
    let mut problems = Vec::new();
    for service in lab.services.keys() {
        let service = service.as_str();
        if !in_inventory.contains(service) {
            problems.push(format!(
                "{service}: no inventory row has its address as host or jump host, nor does an expected.csv row use it as --gateway or --nameserver"
            ));
        }
        if !expected.contains(service) {
            problems.push(format!(
                "{service}: no row of fixtures/expected.csv probes it"
            ));
        }
        if !checks.iter().any(|c| c == service) {
            problems.push(format!(
                "{service}: scripts/fidelity.sh has no check_{service}"
            ));
        }
        match lab.scenarios.get(service) {
            Some(s) if scenarios.join(format!("{s}.sh")).is_file() => {}
            Some(s) => problems.push(format!("{service}: no scenario file scenarios/{s}.sh")),
            None => problems.push(format!("{service}: no SCENARIO in its environment")),
        }
    }
    assert_none(problems, "compose services not covered");
}

#[test]
fn fidelity_runs_a_check_per_service_and_only_those() {
    let lab = Lab::load();
    let services: Vec<&str> = lab.services.keys().map(String::as_str).collect();
    let output = std::process::Command::new("bash")
        .arg(repo().join("scripts/fidelity.sh"))
        .arg("--list")
        .output()
        .expect("run scripts/fidelity.sh --list");
    assert!(
        output.status.success(),
        "fidelity.sh --list: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run_list: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut problems = Vec::new();
    for check in fidelity_checks() {
        if !run_list.contains(&check) {
            problems.push(format!("check_{check} is not in fidelity.sh's run list"));
        }
    }
    for name in &run_list {
        if !services.contains(&name.as_str()) {
            problems.push(format!(
                "fidelity.sh checks {name}, which is no compose service"
            ));
        }
    }
    // `$(addr SERVICE …)`: the service must exist for the address to.
    for call in read("scripts/fidelity.sh").split("$(addr ").skip(1) {
        let service: String = call
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !service.is_empty() && !services.contains(&service.as_str()) {
            problems.push(format!(
                "fidelity.sh: $(addr {service}) names no compose service"
            ));
        }
    }
    assert_none(
        problems,
        "scripts/fidelity.sh disagrees with docker-compose.yml",
    );
}

#[test]
fn expected_rows_name_inventory_rows_and_known_categories() {
    let fixtures = Fixtures::load();
    let mut problems = Vec::new();
    for row in &fixtures.expected {
        let (name, user, command) = (&row["name"], &row["system_user"], &row["command"]);
        let at = format!("expected.csv {name},{user},{},{command}", row["category"]);
        if let Err(e) = row["category"].parse::<prober_engine::Category>() {
            problems.push(format!("{at}: {e}"));
        }
        if !["check", "prepush", "gateway"].contains(&command.as_str()) {
            problems.push(format!("{at}: unknown command {command}"));
        }
        match fixtures.inventory_row(row) {
            Some(asset) => {
                let users = asset["system_users"].split(';').collect::<Vec<_>>();
                if !user.is_empty() && !users.contains(&user.as_str()) {
                    problems.push(format!("{at}: {user} is not among the row's system_users"));
                }
            }
            None if command == "gateway" && GATEWAY_RESULTS.contains(&name.as_str()) => {}
            None => {
                let inventory = match command.as_str() {
                    "gateway" => "gateway-inventory.csv",
                    _ => "inventory.csv",
                };
                problems.push(format!("{at}: {inventory} has no row named {name}"));
            }
        }
    }
    assert_none(problems, "rows of fixtures/expected.csv that cannot be run");
}
