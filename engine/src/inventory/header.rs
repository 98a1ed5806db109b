//! Judges a header row before any row is read: a header we do not understand must stop
//! the run, not quietly leave columns unread (a GBK export read as UTF-8 still has its
//! `IP` column, so without this every row would be probed on port 22 with no admin user).

use super::columns::{self, ColumnMap, Field};
use super::fields::excerpt;

/// Columns of JumpServer's exports that the prober has no use for: known, so they neither
/// count as unknown nor need a warning. Compared after [`columns::normalize`].
const KNOWN_UNUSED: &[&str] = &[
    "id",
    "public ip",
    "公网ip",
    "comment",
    "备注",
    "number",
    "asset number",
    "资产编号",
    "vendor",
    "制造商",
    "model",
    "型号",
    "sn",
    "serial number",
    "序列号",
    "cpu model",
    "cpu型号",
    "cpu count",
    "cpu数量",
    "cpu cores",
    "cpu核数",
    "cpu vcpus",
    "cpu总数",
    "memory",
    "内存",
    "disk total",
    "硬盘大小",
    "disk info",
    "硬盘信息",
    "os version",
    "系统版本",
    "os arch",
    "系统架构",
    "hostname raw",
    "主机名原始",
    "created by",
    "创建者",
    "date created",
    "创建日期",
    "labels",
    "标签",
    "nodes",
    "节点",
    "accounts",
    "账号",
    "organization",
    "组织",
    "type",
    "类型",
    "category",
    "类别",
];

/// Why a header is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Labels that are not text in the encoding the file was read in.
    Garbled(Vec<String>),
    NoHost(Vec<String>),
    /// More unknown labels than known ones: this is not a header we can read.
    MostlyUnknown {
        unknown: Vec<String>,
    },
}

/// What the header gives: its columns, and the labels nothing reads (to warn about).
pub struct Header {
    pub columns: ColumnMap,
    pub unused: Vec<String>,
}

/// A label is unknown when it is neither one of our fields (in any export's spelling) nor a
/// JumpServer column we knowingly leave unread. Extra columns of one's own are fine while
/// they are fewer than the known ones: an inventory with a column or two of notes is
/// common; a header mostly made of labels we cannot place is a language or an encoding we
/// do not read, and guessing its columns would probe the wrong ports as the wrong users.
pub fn judge(labels: &[String]) -> Result<Header, Refusal> {
    let garbled: Vec<String> = labels
        .iter()
        .filter(|l| {
            l.chars()
                .any(|c| c == char::REPLACEMENT_CHARACTER || c.is_control())
        })
        .map(|l| excerpt(l))
        .collect();
    if !garbled.is_empty() {
        return Err(Refusal::Garbled(garbled));
    }
    let columns = ColumnMap::from_header(labels.iter().map(String::as_str));
    let unknown: Vec<String> = labels
        .iter()
        .filter(|l| {
            let label = columns::normalize(l);
            !label.is_empty()
                && columns::field_for(&label).is_none()
                && !KNOWN_UNUSED.contains(&label.as_str())
        })
        .map(|l| excerpt(l.trim()))
        .collect();
    if columns.index(Field::Host).is_none() {
        return Err(Refusal::NoHost(labels.iter().map(|l| excerpt(l)).collect()));
    }
    let known = labels.iter().filter(|l| !l.trim().is_empty()).count() - unknown.len();
    if unknown.len() > known {
        return Err(Refusal::MostlyUnknown { unknown });
    }
    Ok(Header {
        columns,
        unused: unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        text.split(',').map(String::from).collect()
    }

    #[test]
    fn full_jumpserver_1_4_exports_pass_without_unknown_columns() {
        for header in [
            "ID,IP,Hostname,Protocol,Port,Platform,Domain,Is active,Admin user,Public IP,Asset number,Vendor,Model,Serial number,CPU model,CPU count,CPU cores,CPU vcpus,Memory,Disk total,Disk info,OS,OS version,OS arch,Hostname raw,Created by,Comment",
            "ID,IP,主机名,协议,端口,系统平台,网域,激活,管理用户,公网IP,资产编号,制造商,型号,序列号,CPU型号,CPU数量,CPU核数,CPU总数,内存,硬盘大小,硬盘信息,系统版本,系统架构,主机名原始,创建者,备注",
            "*Name,*IP/Host,*Platform,*Protocols,Zone|Domain,Nodes,Accounts,Is active,Comment",
        ] {
            let header = judge(&labels(header)).unwrap_or_else(|e| panic!("{header}: {e:?}"));
            assert!(header.unused.is_empty(), "{:?}", header.unused);
        }
    }

    #[test]
    fn a_few_own_columns_pass_and_are_named() {
        let header = judge(&labels("host,port,owner")).unwrap();
        assert_eq!(header.unused, ["owner"]);
    }

    #[test]
    fn a_header_we_cannot_place_is_refused() {
        // A Japanese export: only its IP column is ours.
        assert_eq!(
            judge(&labels("ID,IP,ホスト名,プロトコル,ポート,管理ユーザー")).err(),
            Some(Refusal::MostlyUnknown {
                unknown: labels("ホスト名,プロトコル,ポート,管理ユーザー")
            })
        );
        assert!(matches!(
            judge(&labels("ID,IP,\u{fffd}\u{fffd}\u{fffd},\u{fffd}\u{fffd}")),
            Err(Refusal::Garbled(_))
        ));
        assert!(matches!(
            judge(&labels("name,port")),
            Err(Refusal::NoHost(_))
        ));
    }
}
