//! Maps the header row of any supported inventory style onto our fields: our own
//! columns, JumpServer 1.4 exports (English or Chinese labels) and 3.x/4.x exports
//! (`*`-prefixed required labels).

/// A field of an asset that an inventory column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Host,
    Port,
    Protocols,
    AdminUser,
    SystemUsers,
    /// The `gateway` column: a jump host's name.
    JumpHost,
    Platform,
    Active,
    /// JumpServer's own id of the asset, kept so results can name it.
    AssetId,
    /// JumpServer's nodes (the asset tree's folders), kept so results can name them.
    Nodes,
}

impl Field {
    pub fn id(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Host => "host",
            Field::Port => "port",
            Field::Protocols => "protocols",
            Field::AdminUser => "admin_user",
            Field::SystemUsers => "system_users",
            Field::JumpHost => "gateway",
            Field::Platform => "platform",
            Field::Active => "active",
            Field::AssetId => "id",
            Field::Nodes => "nodes",
        }
    }
}

/// Header labels, compared after [`normalize`]. JumpServer's "Hostname" is the asset's
/// display name; its address is in "IP" (1.4) or "IP/Host" (3.x+).
const ALIASES: &[(Field, &[&str])] = &[
    (
        Field::Name,
        &[
            "name",
            "hostname",
            "asset",
            "asset name",
            "主机名",
            "名称",
            "资产名称",
        ],
    ),
    (
        Field::Host,
        &[
            "host",
            "ip",
            "address",
            "ip/host",
            "ip/主机",
            "ip address",
            "地址",
        ],
    ),
    (Field::Port, &["port", "ssh port", "端口"]),
    (
        Field::Protocols,
        &["protocols", "protocol", "协议", "协议组"],
    ),
    (
        Field::AdminUser,
        &[
            "admin_user",
            "admin user",
            "管理用户",
            "privileged account",
            "特权账号",
        ],
    ),
    (
        Field::SystemUsers,
        &["system_users", "system users", "system user", "系统用户"],
    ),
    (
        Field::JumpHost,
        &["gateway", "domain", "zone", "zone|domain", "网域", "区域"],
    ),
    (Field::Platform, &["platform", "系统平台", "平台", "os"]),
    (Field::Active, &["active", "is active", "is_active", "激活"]),
    (Field::AssetId, &["id", "asset_id", "asset id"]),
    (Field::Nodes, &["nodes", "node", "节点"]),
];

/// Lower-cases and strips what exports decorate labels with: a BOM, the `*` of required
/// columns, surrounding spaces.
pub fn normalize(label: &str) -> String {
    label
        .trim_start_matches('\u{feff}')
        .trim()
        .trim_start_matches('*')
        .trim()
        .to_lowercase()
}

pub fn field_for(label: &str) -> Option<Field> {
    let label = normalize(label);
    ALIASES
        .iter()
        .find(|(_, names)| names.contains(&label.as_str()))
        .map(|(field, _)| *field)
}

/// Column index of each field; the first column naming a field wins.
#[derive(Debug, Default, Clone)]
pub struct ColumnMap {
    columns: Vec<(Field, usize)>,
}

impl ColumnMap {
    pub fn from_header<'a>(labels: impl IntoIterator<Item = &'a str>) -> ColumnMap {
        let mut map = ColumnMap::default();
        for (index, label) in labels.into_iter().enumerate() {
            if let Some(field) = field_for(label)
                && map.index(field).is_none()
            {
                map.columns.push((field, index));
            }
        }
        map
    }

    /// The field a column fills, if any.
    pub fn field_at(&self, index: usize) -> Option<Field> {
        self.columns
            .iter()
            .find(|(_, i)| *i == index)
            .map(|(f, _)| *f)
    }

    pub fn index(&self, field: Field) -> Option<usize> {
        self.columns
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, i)| *i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumpserver_1_4_english_and_chinese_labels() {
        let en = ColumnMap::from_header([
            "\u{feff}ID",
            "IP",
            "Hostname",
            "Protocol",
            "Port",
            "Admin user",
            "Domain",
            "Is active",
        ]);
        assert_eq!(en.index(Field::Host), Some(1));
        assert_eq!(en.index(Field::Name), Some(2));
        assert_eq!(en.index(Field::Port), Some(4));
        assert_eq!(en.index(Field::AdminUser), Some(5));
        assert_eq!(en.index(Field::JumpHost), Some(6));
        assert_eq!(en.index(Field::Active), Some(7));
        assert_eq!(en.index(Field::AssetId), Some(0));
        let zh = ColumnMap::from_header([
            "ID",
            "IP",
            "主机名",
            "协议",
            "端口",
            "系统平台",
            "网域",
            "激活",
            "管理用户",
        ]);
        assert_eq!(zh.index(Field::Name), Some(2));
        assert_eq!(zh.index(Field::Port), Some(4));
        assert_eq!(zh.index(Field::AdminUser), Some(8));
    }

    #[test]
    fn jumpserver_3_labels_lose_their_star_and_case() {
        let map = ColumnMap::from_header([
            "*Name",
            "*IP/Host",
            "*Platform",
            "*Protocols",
            "Zone|Domain",
            "Is active",
        ]);
        assert_eq!(map.index(Field::Name), Some(0));
        assert_eq!(map.index(Field::Host), Some(1));
        assert_eq!(map.index(Field::Protocols), Some(3));
        assert_eq!(map.index(Field::JumpHost), Some(4));
        assert_eq!(map.index(Field::Nodes), None);
        let zh = ColumnMap::from_header(["*名称", "*IP/主机", "节点"]);
        assert_eq!(zh.index(Field::Nodes), Some(2));
    }
}
