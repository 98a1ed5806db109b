//! The single source of truth for verdicts: every category's stable id, the stage that
//! produces it, what it means and how to fix it (in English and Chinese).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

pub use crate::i18n::Lang;
use crate::i18n::Text;

macro_rules! stages {
    ($( $variant:ident => $id:literal, )+) => {
        /// Where in the probe pipeline a verdict was reached. The order is the pipeline's.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Stage { $($variant),+ }

        impl Stage {
            pub const ALL: &'static [Stage] = &[$(Stage::$variant),+];

            pub fn id(self) -> &'static str {
                match self { $(Stage::$variant => $id),+ }
            }
        }
    };
}

stages! {
    Inventory => "inventory",
    Resolve => "resolve",
    Jump => "jump",
    Connect => "connect",
    Banner => "banner",
    Kex => "kex",
    HostKey => "host_key",
    Auth => "auth",
    Inspect => "inspect",
    SystemUser => "system_user",
    Push => "push",
    Gateway => "gateway",
    Done => "done",
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

macro_rules! categories {
    ($( $variant:ident => $id:literal, $stage:expr,
        meaning: $meaning:literal,
        meaning_zh: $meaning_zh:literal,
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

            pub fn meaning(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Category::$variant, Lang::En) => $meaning,
                      (Category::$variant, Lang::Zh) => $meaning_zh,)+
                }
            }

            pub fn hint(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Category::$variant, Lang::En) => $en,
                      (Category::$variant, Lang::Zh) => $zh,)+
                }
            }
        }
    };
}

categories! {
    Ok => "ok", Some(Stage::Done),
        meaning: "Reachable and manageable: the admin user logged in, is root-equivalent without a prompt, python and a temp dir are there.",
        meaning_zh: "可达且可管理：管理用户能登录，无需输入密码即具备 root 权限，资产上有 python 和可写的临时目录。",
        en: "Nothing to do.",
        zh: "无需处理。";
    Skipped => "skipped", Some(Stage::Inventory),
        meaning: "Not probed: the asset is inactive or not an SSH asset in the inventory; through the gateway, it has no system user to try or the JumpServer user was refused (lockout); for a system user, its asset already failed.",
        meaning_zh: "未检测：该资产在清单中未激活或不是 SSH 资产；经网关检测时，没有可尝试的系统用户，或 JumpServer 用户被拒绝（防止锁定）；对系统用户而言，其所在资产已检测失败。",
        en: "Activate the asset in the inventory if it should be managed.",
        zh: "资产在清单中未激活，未做检测；如需管理请激活该资产。";
    InventoryInvalid => "inventory_invalid", Some(Stage::Inventory),
        meaning: "The inventory row could not be used: a field is missing or malformed, or it names an unknown credential.",
        meaning_zh: "清单中的这一行无法使用：某个字段缺失或格式错误，或引用了不存在的凭据。",
        en: "Fix the named line and field of the inventory (or add the credential to the credentials file) and run again.",
        zh: "按提示修正清单中对应行和字段（或在凭据文件中补充该凭据）后重新运行。";
    DnsNxdomain => "dns_nxdomain", Some(Stage::Resolve),
        meaning: "The host name does not exist in DNS (NXDOMAIN).",
        meaning_zh: "该主机名在 DNS 中不存在（NXDOMAIN）。",
        en: "Check the spelling of the host name, or register it in DNS / use the IP address in the asset.",
        zh: "主机名在 DNS 中不存在：检查拼写，或在 DNS 中注册，或在资产中直接填写 IP。";
    DnsNoRecords => "dns_no_records", Some(Stage::Resolve),
        meaning: "The name exists in DNS but has no A or AAAA record.",
        meaning_zh: "该名称在 DNS 中存在，但没有 A 或 AAAA 记录。",
        en: "Add an A/AAAA record for the name, or use the IP address in the asset.",
        zh: "该名称存在但没有 A/AAAA 记录：补充地址记录，或在资产中直接填写 IP。";
    DnsTimeout => "dns_timeout", Some(Stage::Resolve),
        meaning: "No DNS answer arrived in time.",
        meaning_zh: "DNS 查询在超时时间内没有应答。",
        en: "Check that the bastion's resolvers (/etc/resolv.conf or --nameserver) are reachable and answer for this zone.",
        zh: "DNS 查询超时：检查堡垒机使用的 DNS 服务器（/etc/resolv.conf 或 --nameserver）是否可达、能否解析该域。";
    DnsError => "dns_error", Some(Stage::Resolve),
        meaning: "The DNS lookup failed (SERVFAIL, REFUSED or a resolver error).",
        meaning_zh: "DNS 查询失败（SERVFAIL、REFUSED 或解析器出错）。",
        en: "Check the DNS server's health and its configuration for this zone.",
        zh: "DNS 解析出错（SERVFAIL/REFUSED 等）：检查 DNS 服务器状态及该域的配置。";
    JumpUnreachable => "jump_unreachable", Some(Stage::Jump),
        meaning: "The jump host (domain gateway) the asset is reached through could not be reached, or its SSH server failed before login.",
        meaning_zh: "无法连接到资产所经由的跳板机（网域网关），或其 SSH 服务在登录前出错。",
        en: "Check the gateway's address, port and host key in the bastion's domain settings, and that the bastion can reach it.",
        zh: "无法连接到资产所在网域的网关（跳板机），或其 SSH 服务在登录前出错：检查网域中网关的地址、端口和主机密钥，以及堡垒机到网关的网络。";
    JumpAuthFailed => "jump_auth_failed", Some(Stage::Jump),
        meaning: "The jump host refused the gateway's login.",
        meaning_zh: "跳板机拒绝了网关账号的登录。",
        en: "Fix the gateway's username, password or key in the bastion's domain settings.",
        zh: "网关拒绝了登录：在堡垒机的网域设置中修正网关的用户名、密码或密钥。";
    JumpForwardProhibited => "jump_forward_prohibited", Some(Stage::Jump),
        meaning: "The jump host refuses to forward connections: administratively prohibited (AllowTcpForwarding no).",
        meaning_zh: "跳板机拒绝转发连接：administratively prohibited（AllowTcpForwarding no）。",
        en: "Set 'AllowTcpForwarding yes' (or 'local') for the gateway user in the jump host's sshd_config and reload sshd.",
        zh: "网关拒绝转发连接（administratively prohibited，AllowTcpForwarding no）：在网关的 sshd_config 中为该用户开启 AllowTcpForwarding 并重载 sshd。";
    JumpTargetUnreachable => "jump_target_unreachable", Some(Stage::Jump),
        meaning: "The jump host could not connect to the asset (refused, no route or timed out on the gateway's side).",
        meaning_zh: "跳板机无法连接到资产（在网关一侧被拒绝、无路由或超时）。",
        en: "Check the asset's address and port as the gateway sees them, and the firewall between the gateway and the asset.",
        zh: "网关无法连接到资产（被拒绝、无路由或超时）：检查网关视角下资产的地址和端口，以及两者之间的防火墙。";
    TcpRefused => "tcp_refused", Some(Stage::Connect),
        meaning: "The host answered but nothing listens on the SSH port (connection refused).",
        meaning_zh: "主机有响应，但 SSH 端口上没有服务监听（connection refused）。",
        en: "Start sshd on the asset, or fix the port in the asset (is sshd on another port?).",
        zh: "连接被拒绝：资产上 sshd 未运行或端口不对；启动 sshd，或在资产中填写正确的 SSH 端口。";
    TcpTimeout => "tcp_timeout", Some(Stage::Connect),
        meaning: "The TCP connection got no answer: a firewall drops the packets, or the host is down.",
        meaning_zh: "TCP 连接没有任何应答：防火墙丢弃了数据包，或主机已宕机。",
        en: "Check the asset's firewall (iptables/nftables/firewalld, cloud security groups) allows the bastion to reach the SSH port, and that the host is up.",
        zh: "TCP 连接超时：检查资产防火墙（iptables/firewalld/安全组）是否放行堡垒机访问 SSH 端口，以及主机是否在线。";
    TcpUnreachable => "tcp_unreachable", Some(Stage::Connect),
        meaning: "No route to the host or network (ICMP unreachable, or a firewall rejecting).",
        meaning_zh: "到主机或网络没有路由（ICMP 不可达，或防火墙拒绝）。",
        en: "Check routing between the bastion and the asset, and firewall REJECT rules; the asset may need a domain gateway.",
        zh: "网络不可达：检查堡垒机到资产的路由和防火墙 REJECT 规则；该资产可能需要配置网域网关。";
    SshResetBeforeBanner => "ssh_reset_before_banner", Some(Stage::Banner),
        meaning: "The connection was reset before the SSH banner (kex_exchange_identification: Connection reset by peer).",
        meaning_zh: "在 SSH 标识（banner）之前连接被重置（kex_exchange_identification: Connection reset by peer）。",
        en: "sshd or a filter refuses the bastion: check /etc/hosts.allow and /etc/hosts.deny, brute-force blockers (fail2ban, cloud protection) and sshd's MaxStartups.",
        zh: "在 SSH 握手前连接被重置：检查资产的 /etc/hosts.allow、/etc/hosts.deny，防暴力破解工具（fail2ban、云防护）以及 sshd 的 MaxStartups。";
    SshClosedBeforeBanner => "ssh_closed_before_banner", Some(Stage::Banner),
        meaning: "The server closed the connection before sending an SSH banner.",
        meaning_zh: "服务器在发送 SSH 标识（banner）之前关闭了连接。",
        en: "sshd refuses the bastion or is overloaded: check /etc/hosts.allow, /etc/hosts.deny, MaxStartups, and sshd's logs on the asset.",
        zh: "在发送 SSH 标识前连接被关闭：检查 /etc/hosts.allow、/etc/hosts.deny、MaxStartups 以及资产上的 sshd 日志。";
    SshBannerTimeout => "ssh_banner_timeout", Some(Stage::Banner),
        meaning: "TCP connected but no SSH banner arrived in time.",
        meaning_zh: "TCP 已连接，但在超时时间内没有收到 SSH 标识（banner）。",
        en: "Usually sshd doing slow reverse DNS (UseDNS yes, or tcp-wrappers host-name rules) with a slow resolver: set UseDNS no, fix the asset's resolver, or raise --banner-timeout.",
        zh: "已建立 TCP 连接但迟迟收不到 SSH 标识：多为 sshd 反向解析 DNS 过慢（UseDNS yes 或 tcp-wrappers 主机名规则），设置 UseDNS no 或修复资产的 DNS。";
    SshNotSsh => "ssh_not_ssh", Some(Stage::Banner),
        meaning: "Something other than an SSH server answers on this port.",
        meaning_zh: "该端口上应答的不是 SSH 服务。",
        en: "The port is wrong for SSH: fix the asset's port (another service such as HTTP is listening there).",
        zh: "该端口上运行的不是 SSH 服务（例如 HTTP）：请在资产中填写正确的 SSH 端口。";
    SshProtocol1 => "ssh_protocol_1", Some(Stage::Banner),
        meaning: "The server only speaks the obsolete SSH protocol 1.",
        meaning_zh: "服务器只支持已淘汰的 SSH 协议 1。",
        en: "Upgrade sshd on the device or enable protocol 2; SSH-1 is insecure and unsupported.",
        zh: "服务器仅支持过时的 SSH 协议 1：升级设备的 sshd 或启用协议 2。";
    KexNoCommonAlgorithm => "kex_no_common_algorithm", Some(Stage::Kex),
        meaning: "Client and server share no algorithm of one kind (key exchange, host key, cipher or MAC); the message gives their offer and ours.",
        meaning_zh: "客户端与服务器在某类算法（密钥交换、主机密钥、加密或 MAC）上没有共同项；消息中列出了双方各自支持的算法。",
        en: "Old device or old sshd: retry with --compat legacy (SHA-1 key exchange, CBC ciphers, ssh-rsa), and plan to upgrade the device's SSH server.",
        zh: "双方没有共同的算法（密钥交换/主机密钥/加密/MAC）：多为老旧设备，可用 --compat legacy 重试，并计划升级其 SSH 服务。";
    SshProtocolError => "ssh_protocol_error", Some(Stage::Kex),
        meaning: "The SSH conversation broke off or the server sent something invalid during the handshake.",
        meaning_zh: "SSH 握手过程中会话中断，或服务器发送了不合法的数据。",
        en: "Look at sshd's log on the asset; a middlebox or a broken SSH implementation may be in the path.",
        zh: "SSH 握手过程中连接中断或对方数据不合法：查看资产上的 sshd 日志，检查中间网络设备。";
    HostkeyChanged => "hostkey_changed", Some(Stage::HostKey),
        meaning: "The server's host key differs from the one recorded in known_hosts, or is marked @revoked there.",
        meaning_zh: "服务器的主机密钥与 known_hosts 中记录的不一致，或在其中被标记为 @revoked。",
        en: "If the asset was reinstalled, remove the old key (ssh-keygen -R HOST -f KNOWN_HOSTS) after verifying the new fingerprint out of band; otherwise suspect a man-in-the-middle.",
        zh: "主机密钥与 known_hosts 中记录的不一致：若资产重装过，请核实新指纹后用 ssh-keygen -R 删除旧记录；否则可能存在中间人攻击。";
    HostkeyUnknown => "hostkey_unknown", Some(Stage::HostKey),
        meaning: "The server's host key is not in known_hosts and strict checking is on.",
        meaning_zh: "服务器的主机密钥不在 known_hosts 中，且启用了严格检查。",
        en: "Verify the fingerprint and add it to known_hosts, or run with --host-key-check accept-new.",
        zh: "known_hosts 中没有该主机密钥且启用了严格检查：核实指纹后加入 known_hosts，或使用 --host-key-check accept-new。";
    CredentialUnavailable => "credential_unavailable", Some(Stage::Auth),
        meaning: "The credential's secret could not be read on this machine (environment variable unset, password file missing) or its ssh-agent cannot be used (SSH_AUTH_SOCK unset, no agent answering, no keys in it); found before connecting.",
        meaning_zh: "本机无法读取该凭据的密码（环境变量未设置、密码文件不存在），或无法使用其 ssh-agent（SSH_AUTH_SOCK 未设置、agent 无应答或其中没有密钥）；在连接前即已发现。",
        en: "Set the environment variable or create the file the credentials file names for this credential; for agent = true, start ssh-agent, ssh-add the key and export SSH_AUTH_SOCK in the prober's environment.",
        zh: "无法读取该凭据的密码（环境变量未设置或密码文件不存在），或无法使用 ssh-agent（未设置 SSH_AUTH_SOCK、无 agent 应答或其中没有密钥）：按凭据文件中的配置提供密码；使用 agent = true 时请启动 ssh-agent、用 ssh-add 加入密钥，并在运行 prober 的环境中导出 SSH_AUTH_SOCK。";
    KeyUnreadable => "key_unreadable", Some(Stage::Auth),
        meaning: "The private key file is missing, unreadable, not a supported key format, or a public key (.pub) given where the private key belongs; or a system user's public_key_file cannot be read. Found before connecting.",
        meaning_zh: "私钥文件不存在、无法读取、格式不受支持，或在应填私钥处填写了公钥（.pub）；或系统用户的 public_key_file 无法读取。在连接前即已发现。",
        en: "Check the key path (relative to the credentials file; ~/ is your home), that it names the private key and not the .pub, and its format (OpenSSH, PEM/PKCS#1, PKCS#8 or PuTTY; RSA, Ed25519 or ECDSA).",
        zh: "私钥文件不存在、无法读取、格式不支持，或填写的是公钥（.pub）而非私钥；或系统用户的 public_key_file 无法读取：检查路径（相对于凭据文件，~/ 表示主目录）、确认填写的是私钥而非 .pub，以及格式（OpenSSH、PEM、PKCS#8、PuTTY；RSA/Ed25519/ECDSA）。";
    KeyPassphraseRequired => "key_passphrase_required", Some(Stage::Auth),
        meaning: "The private key is encrypted and no passphrase, or a wrong one, was given.",
        meaning_zh: "私钥已加密，但未提供口令或口令错误。",
        en: "Give the key's passphrase (key_passphrase_env or key_passphrase_file in the credential).",
        zh: "私钥已加密但未提供口令或口令错误：在凭据中配置 key_passphrase_env 或 key_passphrase_file。";
    AuthFailed => "auth_failed", Some(Stage::Auth),
        meaning: "The server rejected the admin credential (Authentication failure / Permission denied); the methods it still allows are recorded.",
        meaning_zh: "服务器拒绝了管理用户的凭据（Authentication failure / Permission denied）；已记录服务器仍允许的认证方式。",
        en: "The admin user is wrong: check its username, password or key on the asset (authorized_keys, password expiry, AllowUsers).",
        zh: "管理用户认证失败：检查管理用户的用户名、密码或密钥是否正确（authorized_keys、密码过期、AllowUsers 等）。";
    AuthMethodUnavailable => "auth_method_unavailable", Some(Stage::Auth),
        meaning: "The server does not allow the authentication method the credential provides (e.g. password when only publickey is allowed).",
        meaning_zh: "服务器不允许该凭据所提供的认证方式（例如只允许 publickey，而凭据只有密码）。",
        en: "Give the admin user a key (or a password) matching the methods the server allows, or enable that method in sshd_config.",
        zh: "服务器不允许该凭据的认证方式（如只允许公钥而凭据只有密码）：为管理用户配置服务器允许的认证方式，或在 sshd_config 中开启。";
    AuthPartial => "auth_partial", Some(Stage::Auth),
        meaning: "The credential was accepted but the server requires further authentication (AuthenticationMethods, MFA).",
        meaning_zh: "凭据已被接受，但服务器要求进一步认证（AuthenticationMethods、MFA）。",
        en: "The asset requires several methods (e.g. publickey,password or an OTP): give the credential all of them or exempt the bastion.",
        zh: "凭据已通过但服务器要求多重认证（AuthenticationMethods、MFA）：为凭据补全所需方式，或为堡垒机设置例外。";
    ShellUnavailable => "shell_unavailable", Some(Stage::Inspect),
        meaning: "Login works but the account cannot run commands (nologin or false shell, forced command).",
        meaning_zh: "可以登录，但该账号无法执行命令（shell 为 nologin 或 false，或被强制命令限制）。",
        en: "Give the admin user a real shell (usermod -s /bin/bash USER) and remove forced commands for it.",
        zh: "可以登录但无法执行命令（shell 为 nologin/false，或被强制命令限制）：为管理用户设置正常 shell（usermod -s /bin/bash）。";
    ExecRefused => "exec_refused", Some(Stage::Inspect),
        meaning: "Login works but the server refused to open a session or run a command.",
        meaning_zh: "可以登录，但服务器拒绝打开会话或执行命令。",
        en: "Check sshd's ForceCommand / Match blocks, MaxSessions and any restricted-shell setup for the admin user.",
        zh: "登录成功但服务器拒绝打开会话或执行命令：检查 sshd 的 ForceCommand、Match、MaxSessions 等限制。";
    AdminNotPrivileged => "admin_not_privileged", Some(Stage::Inspect),
        meaning: "The admin user is neither root nor allowed to sudo: it is not root-equivalent.",
        meaning_zh: "管理用户既不是 root，也不能使用 sudo：不具备 root 权限。",
        en: "The admin user's rights must equal root's: use root, or give it 'USER ALL=(ALL) NOPASSWD: ALL' in /etc/sudoers.d.",
        zh: "管理用户的权限需要与 root 一致：使用 root，或在 /etc/sudoers.d 中为其配置 NOPASSWD: ALL。";
    SudoPasswordRequired => "sudo_password_required", Some(Stage::Inspect),
        meaning: "sudo asks for a password (Missing sudo password / Timeout waiting for privilege escalation prompt).",
        meaning_zh: "sudo 要求输入密码（Missing sudo password / Timeout waiting for privilege escalation prompt）。",
        en: "Add NOPASSWD to the admin user's sudo rule ('USER ALL=(ALL) NOPASSWD: ALL').",
        zh: "sudo 需要密码：为管理用户的 sudo 规则加上 NOPASSWD（USER ALL=(ALL) NOPASSWD: ALL）。";
    SudoRequiretty => "sudo_requiretty", Some(Stage::Inspect),
        meaning: "sudo refuses to run without a terminal (Defaults requiretty).",
        meaning_zh: "没有终端时 sudo 拒绝执行（Defaults requiretty）。",
        en: "Remove 'Defaults requiretty' from sudoers, or add 'Defaults:USER !requiretty' for the admin user.",
        zh: "sudo 要求终端（Defaults requiretty）：在 sudoers 中删除该设置，或为管理用户添加 Defaults:USER !requiretty。";
    PythonMissing => "python_missing", Some(Stage::Inspect),
        meaning: "No python interpreter (python3, python, platform-python): Ansible modules cannot run (MODULE FAILURE ... /usr/bin/python: not found).",
        meaning_zh: "没有 python 解释器（python3、python、platform-python）：Ansible 模块无法运行（MODULE FAILURE ... /usr/bin/python: not found）。",
        en: "Install python3 on the asset, or set the platform's python interpreter path to one that exists.",
        zh: "资产上没有 Python（MODULE FAILURE … /usr/bin/python: not found）：安装 python3，或在平台设置中指定存在的解释器路径。";
    TmpNotWritable => "tmp_not_writable", Some(Stage::Inspect),
        meaning: "The admin user can write to no temp directory (Failed to create temporary directory).",
        meaning_zh: "管理用户没有任何可写的临时目录（Failed to create temporary directory）。",
        en: "Make /tmp (mode 1777) or the admin user's home writable, and check the filesystem is not read-only or full.",
        zh: "管理用户没有可写的临时目录：确保 /tmp（权限 1777）或其家目录可写，并检查文件系统是否只读或已满。";
    SystemUserMissing => "system_user_missing", Some(Stage::SystemUser),
        meaning: "The system user does not exist on the asset: it was never pushed, or the push failed (Authentication failed at login).",
        meaning_zh: "资产上不存在该系统用户：从未推送，或推送失败（登录时 Authentication failed）。",
        en: "Push the system user to the asset again from the bastion (FAQ item 4) and read the push task's log if it fails.",
        zh: "资产上不存在该系统用户（未推送或推送失败）：在堡垒机上重新推送系统用户（FAQ 第 4 条），失败时查看推送任务日志。";
    SystemUserUidMismatch => "system_user_uid_mismatch", Some(Stage::SystemUser),
        meaning: "The user exists on the asset with another uid than the system user's.",
        meaning_zh: "资产上存在该用户，但其 uid 与系统用户设置的不同。",
        en: "Delete the wrong user on the asset and push the system user again (FAQ item 5), or correct the uid in the bastion.",
        zh: "资产上该用户的 uid 与系统用户设置不一致：登录资产删除该用户后重新推送（FAQ 第 5 条），或在堡垒机中修正 uid。";
    SystemUserShellInvalid => "system_user_shell_invalid", Some(Stage::SystemUser),
        meaning: "The user's shell is nologin, false, or not listed in /etc/shells, so it cannot log in.",
        meaning_zh: "该用户的 shell 为 nologin、false，或不在 /etc/shells 中，因此无法登录。",
        en: "Give the user a login shell (usermod -s /bin/bash USER) or push it again; the shell must be listed in /etc/shells.",
        zh: "用户的 shell 为 nologin/false 或不在 /etc/shells 中：执行 usermod -s /bin/bash 用户名，或重新推送。";
    SystemUserHomePermissions => "system_user_home_permissions", Some(Stage::SystemUser),
        meaning: "The home, ~/.ssh or authorized_keys has an owner or mode that sshd's StrictModes refuses, or that keeps the user from reading its keys.",
        meaning_zh: "家目录、~/.ssh 或 authorized_keys 的属主或权限不符合 sshd 的 StrictModes 要求，或导致该用户无法读取自己的密钥。",
        en: "chown USER:USER the home and ~/.ssh, chmod 700 ~/.ssh, chmod 600 authorized_keys, no group/world write on the home; or delete the user and push again (FAQ item 5).",
        zh: "家目录、~/.ssh 或 authorized_keys 的属主/权限不符合 sshd StrictModes 要求：修正属主为该用户、~/.ssh 为 700、authorized_keys 为 600，家目录不可被组/其他人写；或删除用户后重新推送（FAQ 第 5 条）。";
    SystemUserKeyNotRegistered => "system_user_key_not_registered", Some(Stage::SystemUser),
        meaning: "The system user's public key is in none of the authorized keys files sshd reads for it on the asset (its effective AuthorizedKeysFile, ~/.ssh/authorized_keys by default).",
        meaning_zh: "系统用户的公钥不在 sshd 为其读取的任何授权密钥文件中（生效的 AuthorizedKeysFile，默认为 ~/.ssh/authorized_keys）。",
        en: "Push the system user again so its key is written, or add the key to a file the message names (sshd's AuthorizedKeysFile; ~USER/.ssh/authorized_keys by default).",
        zh: "系统用户的公钥不在 sshd 为其读取的任何 authorized_keys 文件中（生效的 AuthorizedKeysFile，默认为 ~用户/.ssh/authorized_keys）：重新推送系统用户，或把公钥加入消息中列出的文件。";
    SystemUserLocked => "system_user_locked", Some(Stage::SystemUser),
        meaning: "The account is locked on the asset (passwd -l / usermod -L).",
        meaning_zh: "该账号在资产上已被锁定（passwd -l / usermod -L）。",
        en: "Unlock it (usermod -U USER) if the lock was not deliberate, or push the system user again.",
        zh: "该账号在资产上被锁定（passwd -l / usermod -L）：如非有意锁定，执行 usermod -U 用户名 解锁，或重新推送。";
    SystemUserExpired => "system_user_expired", Some(Stage::SystemUser),
        meaning: "The account, or its password, has expired on the asset.",
        meaning_zh: "该账号或其密码在资产上已过期。",
        en: "Lift the expiry (chage -E -1 USER) or set a new password (chage -l USER shows the dates).",
        zh: "该账号或其密码已过期：执行 chage -E -1 用户名 取消账号过期，或重新设置密码（chage -l 查看日期）。";
    SystemUserDeniedBySshd => "system_user_denied_by_sshd", Some(Stage::SystemUser),
        meaning: "sshd's AllowUsers, DenyUsers, AllowGroups or DenyGroups refuse this user from the bastion's address.",
        meaning_zh: "sshd 的 AllowUsers、DenyUsers、AllowGroups 或 DenyGroups 拒绝该用户从堡垒机地址登录。",
        en: "Allow the user in sshd_config (AllowUsers/AllowGroups, or remove it from DenyUsers/DenyGroups) and reload sshd.",
        zh: "sshd 的 AllowUsers/DenyUsers/AllowGroups/DenyGroups 拒绝该用户从堡垒机登录：修改 sshd_config 后重载 sshd。";
    SystemUserSudoMissing => "system_user_sudo_missing", Some(Stage::SystemUser),
        meaning: "The sudo rule the bastion pushes for the user is missing, or the sudoers files do not pass visudo.",
        meaning_zh: "堡垒机为该用户推送的 sudo 规则不存在，或 sudoers 文件无法通过 visudo 校验。",
        en: "Push the system user again, or add 'USER ALL=(ALL) NOPASSWD: CMDS' in /etc/sudoers.d and check with visudo -c.",
        zh: "堡垒机为该用户推送的 sudo 规则不存在，或 sudoers 文件无法通过 visudo 校验：重新推送，或在 /etc/sudoers.d 中添加规则并用 visudo -c 检查。";
    SystemUserPasswordWrong => "system_user_password_wrong", Some(Stage::SystemUser),
        meaning: "The account exists and is usable but the system user's password is not accepted.",
        meaning_zh: "账号存在且可用，但系统用户的密码不被接受。",
        en: "Push the system user again to set its password, or update the password kept by the bastion.",
        zh: "账号正常但系统用户的密码不正确：重新推送以设置密码，或更新堡垒机中保存的密码。";
    PushToolMissing => "push_tool_missing", Some(Stage::Push),
        meaning: "useradd, usermod, chpasswd or visudo is missing: a push cannot create or configure the user.",
        meaning_zh: "缺少 useradd、usermod、chpasswd 或 visudo：推送无法创建或配置用户。",
        en: "Install the missing tools on the asset (the passwd/shadow-utils and sudo packages).",
        zh: "资产缺少 useradd、usermod、chpasswd 或 visudo，推送无法创建或配置用户：安装 passwd/shadow-utils 和 sudo 软件包。";
    PushSudoersNotIncluded => "push_sudoers_not_included", Some(Stage::Push),
        meaning: "/etc/sudoers.d is missing or /etc/sudoers does not include it: the pushed sudo rule would be ignored.",
        meaning_zh: "/etc/sudoers.d 不存在，或 /etc/sudoers 没有包含它：推送的 sudo 规则不会生效。",
        en: "Create /etc/sudoers.d (mode 750) and add '@includedir /etc/sudoers.d' to /etc/sudoers with visudo.",
        zh: "/etc/sudoers.d 不存在或未被 /etc/sudoers 包含，推送的 sudo 规则不会生效：创建该目录并用 visudo 在 /etc/sudoers 中加入 @includedir /etc/sudoers.d。";
    PushHomeUnwritable => "push_home_unwritable", Some(Stage::Push),
        meaning: "The home base directory is not writable, or the user's existing home cannot be given to the user.",
        meaning_zh: "家目录的上级目录不可写，或该用户已有的家目录无法交给该用户。",
        en: "Make the home base (useradd -D) writable, and remove or fix whatever stands at the user's home path.",
        zh: "家目录的上级目录不可写，或用户家目录路径被占用/无法修正：确保 useradd -D 的 HOME 可写，并处理该路径上的文件。";
    PushUidTaken => "push_uid_taken", Some(Stage::Push),
        meaning: "The system user's uid already belongs to another user on the asset.",
        meaning_zh: "系统用户的 uid 已被资产上的另一个用户占用。",
        en: "Choose another uid for the system user, or move the other user off that uid.",
        zh: "系统用户的 uid 已被资产上的其他用户占用：为系统用户换一个 uid，或调整占用该 uid 的用户。";
    GatewayWrongPort => "gateway_wrong_port", Some(Stage::Gateway),
        meaning: "The address answers with a plain sshd (OpenSSH banner), not JumpServer's gateway: the client points at the host's own port 22.",
        meaning_zh: "该地址上应答的是普通 sshd（OpenSSH 标识），而不是 JumpServer 网关：客户端连到了主机自身的 22 端口。",
        en: "Connect to the gateway (koko/coco) on its SSH port, 2222 by default, not to the host's sshd (FAQ item 10: 'selected user key not registered on remote host').",
        zh: "该地址上是普通 sshd（OpenSSH 标识）而不是 JumpServer 网关：请连接 koko/coco 的 SSH 端口（默认 2222），而不是主机自身的 22 端口（FAQ 第 10 条“所选的用户密钥未在远程主机上注册”）。";
    GatewayKeyNotRegistered => "gateway_key_not_registered", Some(Stage::Gateway),
        meaning: "The gateway refused the JumpServer user's key: it is not registered for that user.",
        meaning_zh: "网关拒绝了该 JumpServer 用户的密钥：该密钥未登记在此用户名下。",
        en: "Add the public key to the user's profile in JumpServer (SSH public key), and check you connect to the gateway's port 2222. Each refusal counts toward the user's lockout.",
        zh: "网关拒绝了该 JumpServer 用户的密钥（未注册）：在 JumpServer 个人信息中添加 SSH 公钥，并确认连接的是网关的 2222 端口。每次失败都会计入该用户的锁定次数。";
    GatewayAuthFailed => "gateway_auth_failed", Some(Stage::Gateway),
        meaning: "The gateway refused the JumpServer user's password (or asks for more, such as MFA).",
        meaning_zh: "网关拒绝了该 JumpServer 用户的密码（或要求更多认证，例如 MFA）。",
        en: "Check the JumpServer user's password and MFA settings; each refusal counts toward the user's lockout.",
        zh: "网关拒绝了 JumpServer 用户的密码（或要求 MFA 等更多认证）：检查密码和 MFA 设置；每次失败都会计入锁定次数。";
    GatewayUserLocked => "gateway_user_locked", Some(Stage::Gateway),
        meaning: "The gateway says the JumpServer user is locked (too many failed logins, or locked by an administrator).",
        meaning_zh: "网关提示该 JumpServer 用户已被锁定（登录失败次数过多，或被管理员锁定）。",
        en: "Unlock the user in JumpServer (Users > user > unblock) or wait for the lockout window (30 minutes by default) to pass.",
        zh: "网关提示该 JumpServer 用户已被锁定（登录失败过多或被管理员锁定）：在 JumpServer 中解锁该用户，或等待锁定时间（默认 30 分钟）结束。";
    GatewayAssetNotFound => "gateway_asset_not_found", Some(Stage::Gateway),
        meaning: "The gateway finds no asset of that address or name granted to the user ('No found asset').",
        meaning_zh: "网关找不到授权给该用户的此地址或名称的资产（'No found asset'）。",
        en: "Check the asset exists in JumpServer with this address, and that it is granted to the user (asset permissions).",
        zh: "网关找不到授权给该用户的此地址/名称的资产（No found asset）：确认资产已在 JumpServer 中登记且已授权给该用户。";
    GatewayAssetAmbiguous => "gateway_asset_ambiguous", Some(Stage::Gateway),
        meaning: "Several assets match the address or name, so a direct login cannot choose ('Must be unique asset for …').",
        meaning_zh: "有多个资产匹配该地址或名称，直连登录无法选择（'Must be unique asset for …'）。",
        en: "Use the asset's unique name in the direct login, or remove the duplicate asset.",
        zh: "多个资产匹配该地址/名称，直连无法选择（Must be unique asset for …）：使用资产的唯一名称，或删除重复资产。";
    GatewayPermissionDenied => "gateway_permission_denied", Some(Stage::Gateway),
        meaning: "The user has no single granted account of that name on the asset ('Must be unique account for …'): not granted, or several match.",
        meaning_zh: "该用户在此资产上没有唯一的、已授权的同名账号（'Must be unique account for …'）：未授权，或有多个匹配。",
        en: "Grant the system user (account) on this asset to the user in the asset permission, and make sure only one account has that name.",
        zh: "该用户在此资产上没有唯一的已授权账号（Must be unique account for …）：在资产授权中授予该系统用户，并确认同名账号只有一个。";
    GatewayTargetFailed => "gateway_target_failed", Some(Stage::Gateway),
        meaning: "The gateway accepted the request but could not run it on the asset; its message says why.",
        meaning_zh: "网关接受了请求，但无法在资产上执行；原因见网关返回的消息。",
        en: "Read the gateway's message: usually the system user cannot log in to the asset (push it again) or the asset is unreachable from the gateway.",
        zh: "网关接受了请求但在资产上执行失败（见网关返回的信息）：通常是系统用户无法登录资产（请重新推送）或网关无法连接到资产。";
    GatewayWsUnreachable => "gateway_ws_unreachable", Some(Stage::Gateway),
        meaning: "The web terminal's websocket port (coco's 5000) does not answer an HTTP upgrade.",
        meaning_zh: "Web 终端的 websocket 端口（coco 的 5000）不响应 HTTP 升级请求。",
        en: "Check the terminal component is running and its websocket port (default 5000) and the nginx socket.io proxy are right (FAQ item 3).",
        zh: "Web 终端的 websocket 端口（coco 默认 5000）不响应升级请求：检查终端组件是否运行，以及 ws 端口和 nginx 的 socket.io 代理配置（FAQ 第 3 条）。";
    Timeout => "timeout", None,
        meaning: "A stage after the connection took longer than its timeout or the per-asset deadline; nothing is known about the credential.",
        meaning_zh: "连接建立后的某个阶段超过了其超时时间或单个资产的总时限；无法判断凭据是否正确。",
        en: "The asset or the network is slow: raise --timeout and the stage timeouts, or lower --concurrency; a timeout never means the credential is wrong.",
        zh: "某个阶段或整体检测超时（不代表凭据错误）：调大 --timeout 及各阶段超时，或降低 --concurrency。";
    Interrupted => "interrupted", None,
        meaning: "The run was stopped (SIGINT or SIGTERM) while this probe was under way, and it did not end within --grace; nothing is known about the asset.",
        meaning_zh: "检测进行中运行被停止（SIGINT 或 SIGTERM），且未在 --grace 时间内结束；资产情况未知。",
        en: "Nothing is wrong with the asset as far as is known: run again, e.g. with --resume RESULTS, which probes this asset again and skips the finished ones.",
        zh: "检测过程中运行被中断（SIGINT/SIGTERM），该资产的检测未在 --grace 时间内完成，结果未知：重新运行（例如使用 --resume RESULTS，会重新检测该资产并跳过已完成的资产）。";
}

impl Category {
    /// Whether someone must act on this verdict: everything but `ok` and `skipped`.
    pub fn needs_action(self) -> bool {
        !matches!(self, Category::Ok | Category::Skipped)
    }

    /// The whole table as Markdown in `lang`; in English, as the README shows it: `prober
    /// explain --list --format md --lang en` prints it, and a test holds the README to it.
    pub fn markdown_table(lang: Lang) -> String {
        let headers = [Text::ListCategory, Text::ListStage, Text::ListMeaning].map(|t| t.get(lang));
        let mut table = format!("| {} |\n|---|---|---|\n", headers.join(" | "));
        for category in Category::ALL {
            table.push_str(&format!(
                "| `{}` | {} | {} |\n",
                category.id(),
                category.stage_shown(lang),
                category.meaning(lang).replace('|', "\\|")
            ));
        }
        table
    }

    /// The widest id, to align a column of them.
    pub fn id_width() -> usize {
        Category::ALL
            .iter()
            .map(|c| c.id().len())
            .max()
            .unwrap_or(0)
    }

    /// The stage's id, or what stands for any stage in `lang`.
    pub fn stage_shown(self, lang: Lang) -> &'static str {
        self.stage().map_or(Text::AnyStage.get(lang), Stage::id)
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
            assert!(!c.meaning(Lang::En).is_empty() && !c.meaning(Lang::Zh).is_empty());
        }
    }
}
