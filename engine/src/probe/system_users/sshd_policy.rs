//! sshd's user and group filters (AllowUsers, DenyUsers, AllowGroups, DenyGroups), as
//! `sshd -T -C user=…,host=…,addr=…` prints them, judged the way sshd judges a login.

use std::net::IpAddr;

use crate::pattern::wildcard_match;
use crate::text::excerpt;

/// The filters in effect for one connection.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filters {
    pub allow_users: Vec<String>,
    pub deny_users: Vec<String>,
    pub allow_groups: Vec<String>,
    pub deny_groups: Vec<String>,
}

impl Filters {
    /// Reads the `key value…` lines of `sshd -T`; other keys are ignored.
    pub fn from_sshd_t<'a>(lines: impl IntoIterator<Item = &'a str>) -> Filters {
        let mut filters = Filters::default();
        for line in lines {
            let mut words = line.split_whitespace();
            let target = match words.next().map(str::to_lowercase).as_deref() {
                Some("allowusers") => &mut filters.allow_users,
                Some("denyusers") => &mut filters.deny_users,
                Some("allowgroups") => &mut filters.allow_groups,
                Some("denygroups") => &mut filters.deny_groups,
                _ => continue,
            };
            target.extend(words.map(String::from));
        }
        filters
    }

    /// `None` when sshd lets the user in, else the directive that keeps it out.
    pub fn refusal(
        &self,
        user: &str,
        groups: &[String],
        host: &str,
        addr: Option<IpAddr>,
    ) -> Option<String> {
        let user_matches = |pattern: &String| user_pattern_matches(pattern, user, host, addr);
        if let Some(p) = self.deny_users.iter().find(|p| user_matches(p)) {
            return Some(format!("DenyUsers {p} matches {user}"));
        }
        if !self.allow_users.is_empty() && !self.allow_users.iter().any(user_matches) {
            return Some(format!(
                "AllowUsers {} does not list {user}",
                listed(&self.allow_users, " ")
            ));
        }
        let in_group = |pattern: &String| groups.iter().any(|g| wildcard_match(pattern, g));
        if let Some(p) = self.deny_groups.iter().find(|p| in_group(p)) {
            return Some(format!(
                "DenyGroups {p} matches a group of {user} ({})",
                listed(groups, ",")
            ));
        }
        if !self.allow_groups.is_empty() && !self.allow_groups.iter().any(in_group) {
            return Some(format!(
                "AllowGroups {} lists none of {user}'s groups ({})",
                listed(&self.allow_groups, " "),
                listed(groups, ",")
            ));
        }
        None
    }
}

/// `user` or `user@host`, where host may be a name pattern, an address pattern or a CIDR.
fn user_pattern_matches(pattern: &str, user: &str, host: &str, addr: Option<IpAddr>) -> bool {
    let (user_part, host_part) = match pattern.split_once('@') {
        Some((u, h)) => (u, Some(h)),
        None => (pattern, None),
    };
    if !wildcard_match(user_part, user) {
        return false;
    }
    match host_part {
        None => true,
        Some(h) => {
            wildcard_match(&h.to_lowercase(), &host.to_lowercase())
                || addr.is_some_and(|a| wildcard_match(h, &a.to_string()) || in_cidr(h, a))
        }
    }
}

fn in_cidr(pattern: &str, addr: IpAddr) -> bool {
    let Some((net, bits)) = pattern.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// A list from sshd's configuration or the account, cut so the message's point still
/// fits after it: a site can list hundreds of users.
fn listed(items: &[String], separator: &str) -> String {
    excerpt(&items.join(separator), 256).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(text: &str) -> Filters {
        Filters::from_sshd_t(text.lines())
    }

    #[test]
    fn deny_and_allow_users_with_hosts() {
        let addr: Option<IpAddr> = Some("10.1.2.3".parse().unwrap());
        let groups = vec!["deploy".to_string()];
        let f = filters("denyusers deploy\nusepam yes\n");
        assert!(
            f.refusal("deploy", &groups, "10.1.2.3", addr)
                .unwrap()
                .contains("DenyUsers deploy")
        );
        assert_eq!(f.refusal("web", &groups, "10.1.2.3", addr), None);
        let f = filters("allowusers admin root@10.0.0.0/8\n");
        assert!(
            f.refusal("deploy", &groups, "10.1.2.3", addr)
                .unwrap()
                .contains("AllowUsers")
        );
        assert_eq!(f.refusal("root", &groups, "10.1.2.3", addr), None);
        assert!(
            f.refusal(
                "root",
                &groups,
                "192.168.1.1",
                Some("192.168.1.1".parse().unwrap())
            )
            .is_some()
        );
        let f = filters("allowusers dep*@10.1.2.?\n");
        assert_eq!(f.refusal("deploy", &groups, "10.1.2.3", addr), None);
    }

    #[test]
    fn groups() {
        let f = filters("allowgroups ops wheel\n");
        assert!(f.refusal("deploy", &["deploy".into()], "h", None).is_some());
        assert_eq!(
            f.refusal("deploy", &["deploy".into(), "ops".into()], "h", None),
            None
        );
        let f = filters("denygroups no-ssh\n");
        assert!(f.refusal("deploy", &["no-ssh".into()], "h", None).is_some());
    }
}
