//! Property tests of the reader: any bytes in any encoding read without a panic into
//! bounded entries, and rows written in every supported style, encoding and line end read
//! back as they were written.

use std::io;
use std::path::Path;

use proptest::prelude::*;

use super::*;

const ENCODINGS: [Encoding; 6] = [
    Encoding::Auto,
    Encoding::Utf8,
    Encoding::Utf16Le,
    Encoding::Utf16Be,
    Encoding::Gb18030,
    Encoding::Gbk,
];

fn read(bytes: Vec<u8>, encoding: Encoding) -> Result<Vec<Entry>, InventoryError> {
    let options = ReadOptions {
        encoding,
        allow_empty: true,
    };
    InventoryReader::from_reader(Path::new("inv"), Box::new(io::Cursor::new(bytes)), &options)
        .map(Iterator::collect)
}

/// Pieces an inventory is made of, and pieces that break one.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..24),
        prop::sample::select(vec![
            "host",
            "IP",
            "*IP/Host",
            "主机名",
            "端口",
            "协议",
            "激活",
            "管理用户",
            "#Help",
            "ssh",
            "rdp/3389",
            "[\"ssh/22\"]",
            "10.0.0.1",
            "::1",
            "[::1]:22",
            "web-1",
            "True",
            "22",
            ",",
            ";",
            "\t",
            "\"",
            "\"\"",
            "\r",
            "\n",
            "\r\n",
            "#",
            " ",
            "\u{feff}",
            "\u{fffd}",
            "\x1b[31m",
            "(00000000-0000-0000-0000-000000000001)",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::sample::select(vec![
            &b"\xff\xfe"[..],
            b"\xfe\xff",
            b"\xef\xbb\xbf",
            b"\x81\x30"
        ])
        .prop_map(<[u8]>::to_vec),
        // Now and then a run longer than a row may be.
        (
            prop::sample::select(vec![b'x', b'\0', b'"', b',']),
            MAX_ROW - 8..MAX_ROW + 64
        )
            .prop_map(|(byte, n)| vec![byte; n]),
    ]
}

/// What any entry may hold at most, whatever the input.
fn check_bounded(entry: &Entry, lines: u64) -> Result<(), TestCaseError> {
    let line = match entry {
        Entry::Asset(a) => {
            let mut texts = vec![&a.name, &a.host];
            texts.extend(a.admin_user.iter().chain(&a.jump_host).chain(&a.platform));
            texts.extend(a.skip.iter().chain(&a.system_users));
            for text in texts {
                prop_assert!(text.len() <= MAX_ROW, "{} bytes", text.len());
            }
            a.line
        }
        Entry::Invalid(i) => {
            for text in i.name.iter().chain(&i.host).chain([&i.field]) {
                prop_assert!(text.chars().count() <= fields::EXCERPT + 1, "{text:?}");
            }
            prop_assert!(i.reason.len() <= 4 * 1024, "{}", i.reason);
            i.line
        }
    };
    prop_assert!((1..=lines).contains(&line), "line {line} of {lines}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_bytes_read_without_panic_into_bounded_entries(
        pieces in prop::collection::vec(fragment(), 0..40),
        encoding in prop::sample::select(ENCODINGS.to_vec()),
    ) {
        let bytes = pieces.concat();
        // Every line end counted once however it is written, and UTF-16 has them too.
        let lines = bytes.iter().filter(|b| matches!(b, b'\n' | b'\r')).count() as u64 + 1;
        match read(bytes, encoding) {
            Ok(entries) => {
                prop_assert!(entries.len() as u64 <= lines);
                for entry in &entries {
                    check_bounded(entry, lines)?;
                }
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.len() <= 16 * 1024, "{} bytes", message.len());
            }
        }
    }
}

/// An asset as a generated inventory row describes it.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    host: String,
    port: u16,
    admin_user: Option<String>,
    system_users: Vec<String>,
    gateway: Option<String>,
    platform: Option<String>,
    active: bool,
}

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,10}"
}

fn spec() -> impl Strategy<Value = Spec> {
    let host = prop_oneof![
        any::<[u8; 4]>().prop_map(|o| std::net::Ipv4Addr::from(o).to_string()),
        any::<u128>().prop_map(|o| std::net::Ipv6Addr::from(o).to_string()),
        "[a-z][a-z0-9-]{0,8}[a-z0-9](\\.[a-z][a-z0-9]{0,6}){0,2}",
    ];
    (
        // A name may hold anything a spreadsheet cell holds; it starts and ends with a
        // letter, as trimming would change it otherwise.
        "[a-zA-Z数][a-zA-Z0-9 数据库网站,;\"\n\t-]{0,16}[a-z库]",
        host,
        1..=u16::MAX,
        prop::option::of(word()),
        prop::collection::vec(word(), 0..3),
        prop::option::of(word()),
        prop::option::of(prop::sample::select(vec!["Linux", "Windows", "麒麟"])),
        any::<bool>(),
    )
        .prop_map(
            |(name, host, port, admin_user, system_users, gateway, platform, active)| Spec {
                name,
                host,
                port,
                admin_user,
                system_users,
                gateway,
                platform: platform.map(String::from),
                active,
            },
        )
}

#[derive(Debug, Clone, Copy)]
enum Style {
    Ours,
    JumpServer14En,
    JumpServer14Zh,
    JumpServer2,
    JumpServer3,
    Plain,
}

const UUID: &str = "6b8d0f6c-2b1e-4f5e-9d55-0c8c1c7e2a11";

impl Style {
    fn header(self) -> Vec<&'static str> {
        match self {
            Style::Ours => vec![
                "name",
                "host",
                "port",
                "admin_user",
                "system_users",
                "gateway",
                "platform",
                "active",
            ],
            Style::JumpServer14En => exports::JUMPSERVER_1_4_EN.split(',').collect(),
            Style::JumpServer14Zh => exports::JUMPSERVER_1_4_ZH.split(',').collect(),
            Style::JumpServer2 => exports::JUMPSERVER_2.split(',').collect(),
            Style::JumpServer3 => exports::JUMPSERVER_3.split(',').collect(),
            Style::Plain => Vec::new(),
        }
    }

    fn row(self, spec: &Spec, index: usize) -> Vec<String> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let bool14 = if spec.active { "True" } else { "False" };
        match self {
            Style::Ours => vec![
                spec.name.clone(),
                spec.host.clone(),
                spec.port.to_string(),
                opt(&spec.admin_user),
                spec.system_users.join(";"),
                opt(&spec.gateway),
                opt(&spec.platform),
                spec.active.to_string(),
            ],
            Style::JumpServer14En | Style::JumpServer14Zh => vec![
                index.to_string(),
                spec.host.clone(),
                spec.name.clone(),
                "ssh".into(),
                spec.port.to_string(),
                opt(&spec.platform),
                opt(&spec.gateway),
                bool14.into(),
                opt(&spec.admin_user),
                String::new(),
                "备注, \"quoted\"".into(),
            ],
            Style::JumpServer2 => vec![
                spec.name.clone(),
                spec.host.clone(),
                format!("rdp/3389 ssh/{}", spec.port),
                opt(&spec.admin_user),
                opt(&spec.gateway),
                opt(&spec.platform),
                bool14.into(),
            ],
            Style::JumpServer3 => vec![
                spec.name.clone(),
                spec.host.clone(),
                spec.platform
                    .as_ref()
                    .map_or(String::new(), |p| format!("{p}({UUID})")),
                format!("[\"ssh/{}\",\"sftp/22\"]", spec.port),
                spec.gateway
                    .as_ref()
                    .map_or(String::new(), |g| format!("{g}({UUID})")),
                "/Default".into(),
                String::new(),
                bool14.into(),
                String::new(),
            ],
            Style::Plain => {
                let host = if spec.host.contains(':') {
                    format!("[{}]", spec.host)
                } else {
                    spec.host.clone()
                };
                vec![format!("{host}:{}", spec.port)]
            }
        }
    }

    /// The asset the reader should make of the row written at `line`.
    fn expected(self, spec: &Spec, line: u64, index: usize) -> Asset {
        let host = spec.host.clone();
        let plain = matches!(self, Style::Plain);
        let has = |ours: bool| !plain && ours;
        Asset {
            line,
            id: matches!(self, Style::JumpServer14En | Style::JumpServer14Zh)
                .then(|| index.to_string()),
            nodes: match self {
                Style::JumpServer3 => vec!["/Default".into()],
                _ => Vec::new(),
            },
            name: if plain {
                host.clone()
            } else {
                spec.name.clone()
            },
            port: spec.port,
            port_given: true,
            admin_user: spec
                .admin_user
                .clone()
                .filter(|_| has(!matches!(self, Style::JumpServer3))),
            system_users: if matches!(self, Style::Ours) {
                spec.system_users.clone()
            } else {
                Vec::new()
            },
            jump_host: spec.gateway.clone().filter(|_| has(true)),
            platform: spec.platform.clone().filter(|_| has(true)),
            skip: (!spec.active && !plain).then(|| "inactive in the inventory".into()),
            host,
        }
    }

    /// The written file and the assets expected back.
    fn write(self, specs: &[Spec], crlf: bool, delimiter: u8) -> (String, Vec<Asset>) {
        let delimiter = if matches!(self, Style::Plain) {
            b','
        } else {
            delimiter
        };
        let mut writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .terminator(if crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(Vec::new());
        if !matches!(self, Style::Plain) {
            writer.write_record(self.header()).unwrap();
        }
        if matches!(self, Style::JumpServer3) {
            writer
                .write_record(["#Help", "Asset name", "IP or host", "Linux", "ssh/22"])
                .unwrap();
        }
        let mut expected = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            writer.flush().unwrap();
            let line = writer.get_ref().iter().filter(|b| **b == b'\n').count() as u64 + 1;
            writer.write_record(self.row(spec, index + 1)).unwrap();
            expected.push(self.expected(spec, line, index + 1));
        }
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        (text, expected)
    }
}

fn encode(text: &str, encoding: Encoding) -> Vec<u8> {
    let utf16 = |little: bool| -> Vec<u8> {
        std::iter::once(0xfeff)
            .chain(text.encode_utf16())
            .flat_map(|u| {
                if little {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            })
            .collect()
    };
    match encoding {
        Encoding::Auto => [&b"\xef\xbb\xbf"[..], text.as_bytes()].concat(),
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Utf16Le => utf16(true),
        Encoding::Utf16Be => utf16(false),
        Encoding::Gb18030 => encoding_rs::GB18030.encode(text).0.into_owned(),
        Encoding::Gbk => encoding_rs::GBK.encode(text).0.into_owned(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rows_written_in_every_style_and_encoding_read_back_the_same(
        specs in prop::collection::vec(spec(), 1..8),
        style in prop::sample::select(vec![
            Style::Ours,
            Style::JumpServer14En,
            Style::JumpServer14Zh,
            Style::JumpServer2,
            Style::JumpServer3,
            Style::Plain,
        ]),
        crlf in any::<bool>(),
        delimiter in prop::sample::select(vec![b',', b';', b'\t']),
    ) {
        let (text, expected) = style.write(&specs, crlf, delimiter);
        for encoding in ENCODINGS {
            let mut read_as = vec![encoding];
            // What auto-detection must find by itself (GBK: no BOM to go by).
            if matches!(encoding, Encoding::Gbk | Encoding::Utf8) {
                read_as.push(Encoding::Auto);
            }
            for read_as in read_as {
                let entries = read(encode(&text, encoding), read_as)
                    .map_err(|e| TestCaseError::fail(format!("{encoding:?}: {e}\n{text}")))?;
                let assets: Vec<Asset> = entries
                    .into_iter()
                    .map(|entry| match entry {
                        Entry::Asset(asset) => Ok(asset),
                        Entry::Invalid(row) => Err(TestCaseError::fail(format!(
                            "{encoding:?} read as {read_as:?}: {row:?}\n{text}"
                        ))),
                    })
                    .collect::<Result<_, _>>()?;
                prop_assert_eq!(&assets, &expected, "{:?} read as {:?}", encoding, read_as);
            }
        }
    }
}
