//! The single source of truth for verdicts: every category's stable id, the stage that
//! produces it, what it means and how to fix it (in English and Chinese).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Where in the probe pipeline a verdict was reached. The order is the pipeline's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Inventory,
    Resolve,
    Connect,
    Banner,
    Kex,
    HostKey,
    Auth,
    Inspect,
    Done,
}

impl Stage {
    pub fn id(self) -> &'static str {
        match self {
            Stage::Inventory => "inventory",
            Stage::Resolve => "resolve",
            Stage::Connect => "connect",
            Stage::Banner => "banner",
            Stage::Kex => "kex",
            Stage::HostKey => "host_key",
            Stage::Auth => "auth",
            Stage::Inspect => "inspect",
            Stage::Done => "done",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Language of hints and explanations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

/// What the information in a category says about the admin credential. Taken from
/// JumpServer's own probe: a timeout or a network failure never marks a credential wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialVerdict {
    Accepted,
    Rejected,
    Unknown,
}

macro_rules! categories {
    ($( $variant:ident => $id:literal, $stage:expr, $verdict:ident,
        meaning: $meaning:literal,
        en: $en:literal,
        zh: $zh:literal; )+) => {
        /// A probe verdict. Ids are stable: scripts and dashboards key on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Category { $($variant),+ }

        impl Category {
            pub const ALL: &'static [Category] = &[$(Category::$variant),+];

            pub fn id(self) -> &'static str {
                match self { $(Category::$variant => $id),+ }
            }

            /// The stage this category belongs to; `None` for verdicts any stage can give.
            pub fn stage(self) -> Option<Stage> {
                match self { $(Category::$variant => $stage),+ }
            }

            pub fn meaning(self) -> &'static str {
                match self { $(Category::$variant => $meaning),+ }
            }

            pub fn hint(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Category::$variant, Lang::En) => $en,
                      (Category::$variant, Lang::Zh) => $zh,)+
                }
            }

            pub fn credential_verdict(self) -> CredentialVerdict {
                match self { $(Category::$variant => CredentialVerdict::$verdict),+ }
            }
        }
    };
}

categories! {
    Ok => "ok", Some(Stage::Done), Accepted,
        meaning: "Reachable and manageable: the admin user logged in, is root-equivalent without a prompt, python and a temp dir are there.",
        en: "Nothing to do.",
        zh: "无需处理。";
    Skipped => "skipped", Some(Stage::Inventory), Unknown,
        meaning: "The asset is marked inactive in the inventory and was not probed.",
        en: "Activate the asset in the inventory if it should be managed.",
        zh: "资产在清单中未激活，未做检测；如需管理请激活该资产。";
    InventoryInvalid => "inventory_invalid", Some(Stage::Inventory), Unknown,
        meaning: "The inventory row could not be used: a field is missing or malformed, or it names an unknown credential.",
        en: "Fix the named line and field of the inventory (or add the credential to the credentials file) and run again.",
        zh: "按提示修正清单中对应行和字段（或在凭据文件中补充该凭据）后重新运行。";
    DnsNxdomain => "dns_nxdomain", Some(Stage::Resolve), Unknown,
        meaning: "The host name does not exist in DNS (NXDOMAIN).",
        en: "Check the spelling of the host name, or register it in DNS / use the IP address in the asset.",
        zh: "主机名在 DNS 中不存在：检查拼写，或在 DNS 中注册，或在资产中直接填写 IP。";
    DnsNoRecords => "dns_no_records", Some(Stage::Resolve), Unknown,
        meaning: "The name exists in DNS but has no A or AAAA record.",
        en: "Add an A/AAAA record for the name, or use the IP address in the asset.",
        zh: "该名称存在但没有 A/AAAA 记录：补充地址记录，或在资产中直接填写 IP。";
    DnsTimeout => "dns_timeout", Some(Stage::Resolve), Unknown,
        meaning: "No DNS answer arrived in time.",
        en: "Check that the bastion's resolvers (/etc/resolv.conf or --nameserver) are reachable and answer for this zone.",
        zh: "DNS 查询超时：检查堡垒机使用的 DNS 服务器（/etc/resolv.conf 或 --nameserver）是否可达、能否解析该域。";
    DnsError => "dns_error", Some(Stage::Resolve), Unknown,
        meaning: "The DNS lookup failed (SERVFAIL, REFUSED or a resolver error).",
        en: "Check the DNS server's health and its configuration for this zone.",
        zh: "DNS 解析出错（SERVFAIL/REFUSED 等）：检查 DNS 服务器状态及该域的配置。";
    TcpRefused => "tcp_refused", Some(Stage::Connect), Unknown,
        meaning: "The host answered but nothing listens on the SSH port (connection refused).",
        en: "Start sshd on the asset, or fix the port in the asset (is sshd on another port?).",
        zh: "连接被拒绝：资产上 sshd 未运行或端口不对；启动 sshd，或在资产中填写正确的 SSH 端口。";
    TcpTimeout => "tcp_timeout", Some(Stage::Connect), Unknown,
        meaning: "The TCP connection got no answer: a firewall drops the packets, or the host is down.",
        en: "Check the asset's firewall (iptables/nftables/firewalld, cloud security groups) allows the bastion to reach the SSH port, and that the host is up.",
        zh: "TCP 连接超时：检查资产防火墙（iptables/firewalld/安全组）是否放行堡垒机访问 SSH 端口，以及主机是否在线。";
    TcpUnreachable => "tcp_unreachable", Some(Stage::Connect), Unknown,
        meaning: "No route to the host or network (ICMP unreachable, or a firewall rejecting).",
        en: "Check routing between the bastion and the asset, and firewall REJECT rules; the asset may need a domain gateway.",
        zh: "网络不可达：检查堡垒机到资产的路由和防火墙 REJECT 规则；该资产可能需要配置网域网关。";
    SshResetBeforeBanner => "ssh_reset_before_banner", Some(Stage::Banner), Unknown,
        meaning: "The connection was reset before the SSH banner (kex_exchange_identification: Connection reset by peer).",
        en: "sshd or a filter refuses the bastion: check /etc/hosts.allow and /etc/hosts.deny, brute-force blockers (fail2ban, cloud protection) and sshd's MaxStartups.",
        zh: "在 SSH 握手前连接被重置：检查资产的 /etc/hosts.allow、/etc/hosts.deny，防暴力破解工具（fail2ban、云防护）以及 sshd 的 MaxStartups。";
    SshClosedBeforeBanner => "ssh_closed_before_banner", Some(Stage::Banner), Unknown,
        meaning: "The server closed the connection before sending an SSH banner.",
        en: "sshd refuses the bastion or is overloaded: check /etc/hosts.allow, /etc/hosts.deny, MaxStartups, and sshd's logs on the asset.",
        zh: "在发送 SSH 标识前连接被关闭：检查 /etc/hosts.allow、/etc/hosts.deny、MaxStartups 以及资产上的 sshd 日志。";
    SshBannerTimeout => "ssh_banner_timeout", Some(Stage::Banner), Unknown,
        meaning: "TCP connected but no SSH banner arrived in time.",
        en: "Usually sshd doing slow reverse DNS (UseDNS yes, or tcp-wrappers host-name rules) with a slow resolver: set UseDNS no, fix the asset's resolver, or raise --banner-timeout.",
        zh: "已建立 TCP 连接但迟迟收不到 SSH 标识：多为 sshd 反向解析 DNS 过慢（UseDNS yes 或 tcp-wrappers 主机名规则），设置 UseDNS no 或修复资产的 DNS。";
    SshNotSsh => "ssh_not_ssh", Some(Stage::Banner), Unknown,
        meaning: "Something other than an SSH server answers on this port.",
        en: "The port is wrong for SSH: fix the asset's port (another service such as HTTP is listening there).",
        zh: "该端口上运行的不是 SSH 服务（例如 HTTP）：请在资产中填写正确的 SSH 端口。";
    SshProtocol1 => "ssh_protocol_1", Some(Stage::Banner), Unknown,
        meaning: "The server only speaks the obsolete SSH protocol 1.",
        en: "Upgrade sshd on the device or enable protocol 2; SSH-1 is insecure and unsupported.",
        zh: "服务器仅支持过时的 SSH 协议 1：升级设备的 sshd 或启用协议 2。";
    KexNoCommonAlgorithm => "kex_no_common_algorithm", Some(Stage::Kex), Unknown,
        meaning: "Client and server share no algorithm of one kind (key exchange, host key, cipher or MAC).",
        en: "Old device or old sshd: retry with --compat legacy (SHA-1 key exchange, CBC ciphers, ssh-rsa), and plan to upgrade the device's SSH server.",
        zh: "双方没有共同的算法（密钥交换/主机密钥/加密/MAC）：多为老旧设备，可用 --compat legacy 重试，并计划升级其 SSH 服务。";
    SshProtocolError => "ssh_protocol_error", Some(Stage::Kex), Unknown,
        meaning: "The SSH conversation broke off or the server sent something invalid during the handshake.",
        en: "Look at sshd's log on the asset; a middlebox or a broken SSH implementation may be in the path.",
        zh: "SSH 握手过程中连接中断或对方数据不合法：查看资产上的 sshd 日志，检查中间网络设备。";
    HostkeyChanged => "hostkey_changed", Some(Stage::HostKey), Unknown,
        meaning: "The server's host key differs from the one recorded in known_hosts.",
        en: "If the asset was reinstalled, remove the old key (ssh-keygen -R HOST -f KNOWN_HOSTS) after verifying the new fingerprint out of band; otherwise suspect a man-in-the-middle.",
        zh: "主机密钥与 known_hosts 中记录的不一致：若资产重装过，请核实新指纹后用 ssh-keygen -R 删除旧记录；否则可能存在中间人攻击。";
    HostkeyUnknown => "hostkey_unknown", Some(Stage::HostKey), Unknown,
        meaning: "The server's host key is not in known_hosts and strict checking is on.",
        en: "Verify the fingerprint and add it to known_hosts, or run with --host-key-check accept-new.",
        zh: "known_hosts 中没有该主机密钥且启用了严格检查：核实指纹后加入 known_hosts，或使用 --host-key-check accept-new。";
    CredentialUnavailable => "credential_unavailable", Some(Stage::Auth), Unknown,
        meaning: "The credential's secret could not be read on this machine (environment variable unset, password file missing).",
        en: "Set the environment variable or create the file the credentials file names for this credential.",
        zh: "无法读取该凭据的密码（环境变量未设置或密码文件不存在）：按凭据文件中的配置提供密码。";
    KeyUnreadable => "key_unreadable", Some(Stage::Auth), Unknown,
        meaning: "The private key file is missing, unreadable or not a supported key format.",
        en: "Check the key path and format (OpenSSH, PEM/PKCS#1, PKCS#8 or PuTTY; RSA, Ed25519 or ECDSA).",
        zh: "私钥文件不存在、无法读取或格式不支持：检查路径与格式（OpenSSH、PEM、PKCS#8、PuTTY；RSA/Ed25519/ECDSA）。";
    KeyPassphraseRequired => "key_passphrase_required", Some(Stage::Auth), Unknown,
        meaning: "The private key is encrypted and no passphrase, or a wrong one, was given.",
        en: "Give the key's passphrase (key_passphrase_env or key_passphrase_file in the credential).",
        zh: "私钥已加密但未提供口令或口令错误：在凭据中配置 key_passphrase_env 或 key_passphrase_file。";
    AuthFailed => "auth_failed", Some(Stage::Auth), Rejected,
        meaning: "The server rejected the admin credential (Authentication failure / Permission denied).",
        en: "The admin user is wrong: check its username, password or key on the asset (authorized_keys, password expiry, AllowUsers).",
        zh: "管理用户认证失败：检查管理用户的用户名、密码或密钥是否正确（authorized_keys、密码过期、AllowUsers 等）。";
    AuthMethodUnavailable => "auth_method_unavailable", Some(Stage::Auth), Unknown,
        meaning: "The server does not allow the authentication method the credential provides (e.g. password when only publickey is allowed).",
        en: "Give the admin user a key (or a password) matching the methods the server allows, or enable that method in sshd_config.",
        zh: "服务器不允许该凭据的认证方式（如只允许公钥而凭据只有密码）：为管理用户配置服务器允许的认证方式，或在 sshd_config 中开启。";
    AuthPartial => "auth_partial", Some(Stage::Auth), Unknown,
        meaning: "The credential was accepted but the server requires further authentication (AuthenticationMethods, MFA).",
        en: "The asset requires several methods (e.g. publickey,password or an OTP): give the credential all of them or exempt the bastion.",
        zh: "凭据已通过但服务器要求多重认证（AuthenticationMethods、MFA）：为凭据补全所需方式，或为堡垒机设置例外。";
    ShellUnavailable => "shell_unavailable", Some(Stage::Inspect), Unknown,
        meaning: "Login works but the account cannot run commands (nologin or false shell, forced command).",
        en: "Give the admin user a real shell (usermod -s /bin/bash USER) and remove forced commands for it.",
        zh: "可以登录但无法执行命令（shell 为 nologin/false，或被强制命令限制）：为管理用户设置正常 shell（usermod -s /bin/bash）。";
    ExecRefused => "exec_refused", Some(Stage::Inspect), Unknown,
        meaning: "Login works but the server refused to open a session or run a command.",
        en: "Check sshd's ForceCommand / Match blocks, MaxSessions and any restricted-shell setup for the admin user.",
        zh: "登录成功但服务器拒绝打开会话或执行命令：检查 sshd 的 ForceCommand、Match、MaxSessions 等限制。";
    AdminNotPrivileged => "admin_not_privileged", Some(Stage::Inspect), Accepted,
        meaning: "The admin user is neither root nor allowed to sudo: it is not root-equivalent.",
        en: "The admin user's rights must equal root's: use root, or give it 'USER ALL=(ALL) NOPASSWD: ALL' in /etc/sudoers.d.",
        zh: "管理用户的权限需要与 root 一致：使用 root，或在 /etc/sudoers.d 中为其配置 NOPASSWD: ALL。";
    SudoPasswordRequired => "sudo_password_required", Some(Stage::Inspect), Accepted,
        meaning: "sudo asks for a password (Missing sudo password / Timeout waiting for privilege escalation prompt).",
        en: "Add NOPASSWD to the admin user's sudo rule ('USER ALL=(ALL) NOPASSWD: ALL').",
        zh: "sudo 需要密码：为管理用户的 sudo 规则加上 NOPASSWD（USER ALL=(ALL) NOPASSWD: ALL）。";
    SudoRequiretty => "sudo_requiretty", Some(Stage::Inspect), Accepted,
        meaning: "sudo refuses to run without a terminal (Defaults requiretty).",
        en: "Remove 'Defaults requiretty' from sudoers, or add 'Defaults:USER !requiretty' for the admin user.",
        zh: "sudo 要求终端（Defaults requiretty）：在 sudoers 中删除该设置，或为管理用户添加 Defaults:USER !requiretty。";
    PythonMissing => "python_missing", Some(Stage::Inspect), Accepted,
        meaning: "No python interpreter (python3, python, platform-python): Ansible modules cannot run (MODULE FAILURE ... /usr/bin/python: not found).",
        en: "Install python3 on the asset, or set the platform's python interpreter path to one that exists.",
        zh: "资产上没有 Python（MODULE FAILURE … /usr/bin/python: not found）：安装 python3，或在平台设置中指定存在的解释器路径。";
    TmpNotWritable => "tmp_not_writable", Some(Stage::Inspect), Accepted,
        meaning: "The admin user can write to no temp directory (Failed to create temporary directory).",
        en: "Make /tmp (mode 1777) or the admin user's home writable, and check the filesystem is not read-only or full.",
        zh: "管理用户没有可写的临时目录：确保 /tmp（权限 1777）或其家目录可写，并检查文件系统是否只读或已满。";
    Timeout => "timeout", None, Unknown,
        meaning: "A stage after the connection took longer than its timeout or the per-asset deadline; nothing is known about the credential.",
        en: "The asset or the network is slow: raise --timeout and the stage timeouts, or lower --concurrency; a timeout never means the credential is wrong.",
        zh: "某个阶段或整体检测超时（不代表凭据错误）：调大 --timeout 及各阶段超时，或降低 --concurrency。";
}

impl Category {
    pub fn is_ok(self) -> bool {
        self == Category::Ok
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown category `{0}` (see `prober explain --list`)")]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .iter()
            .copied()
            .find(|c| c.id() == s)
            .ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_snake_case_and_round_trip() {
        let mut seen = HashSet::new();
        for &c in Category::ALL {
            assert!(seen.insert(c.id()), "duplicate id {}", c.id());
            assert!(
                c.id()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_' || ch.is_ascii_digit())
            );
            assert_eq!(c.id().parse::<Category>().unwrap(), c);
            assert!(!c.hint(Lang::En).is_empty() && !c.hint(Lang::Zh).is_empty());
        }
    }

    #[test]
    fn the_readme_documents_every_category() {
        let readme = include_str!("../../README.md");
        for c in Category::ALL {
            assert!(
                readme.contains(&format!("| `{}` |", c.id())),
                "README lacks {}",
                c.id()
            );
        }
    }

    #[test]
    fn timeouts_never_reject_a_credential() {
        for c in [
            Category::Timeout,
            Category::TcpTimeout,
            Category::SshBannerTimeout,
            Category::DnsTimeout,
        ] {
            assert_eq!(c.credential_verdict(), CredentialVerdict::Unknown);
        }
        assert_eq!(
            Category::AuthFailed.credential_verdict(),
            CredentialVerdict::Rejected
        );
    }
}
