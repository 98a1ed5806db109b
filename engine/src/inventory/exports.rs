//! The header rows of JumpServer's asset exports, version by version, as JumpServer writes
//! them: the reader is built to read them, and tests write them.

/// JumpServer 1.4, English labels.
pub const JUMPSERVER_1_4_EN: &str =
    "ID,IP,Hostname,Protocol,Port,Platform,Domain,Is active,Admin user,Public IP,Comment";

/// JumpServer 1.4, Chinese labels.
pub const JUMPSERVER_1_4_ZH: &str =
    "ID,IP,主机名,协议,端口,系统平台,网域,激活,管理用户,公网IP,备注";

/// JumpServer 2.x; a `*` marks what its import requires.
pub const JUMPSERVER_2: &str = "*hostname,*ip,*protocols,admin_user,domain,platform,is_active";

/// JumpServer 3.x and 4.x.
pub const JUMPSERVER_3: &str =
    "*Name,*IP/Host,*Platform,*Protocols,Zone|Domain,Nodes,Accounts,Is active,Comment";
