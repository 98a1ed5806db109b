//! The interface's own words in each language: which language a run speaks, and one table
//! of every UI string (headers, labels, the summary and progress lines) in English and
//! Chinese. Category meanings and hints live in the category table; what a server said is
//! quoted as it said it, in no language of ours.

use std::fmt::Display;

/// Language of the text for people: headers, meanings, hints, summary and progress.
/// Machine formats (field names, category ids) never change with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

/// The locale variables that name the language of messages, in POSIX's order of
/// precedence: the first one set and not empty decides.
pub const LOCALE_VARS: [&str; 3] = ["LC_ALL", "LC_MESSAGES", "LANG"];

impl Lang {
    /// The language the environment asks for: Chinese when the locale that decides
    /// ([`LOCALE_VARS`]) starts with `zh` (`zh_CN.UTF-8`, `zh_TW`, `zh`), else English.
    pub fn from_env() -> Lang {
        Lang::from_locale(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into()))
    }

    /// [`Lang::from_env`] over any source of variables.
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
        let deciding = LOCALE_VARS
            .iter()
            .filter_map(|name| var(name))
            .find(|value| !value.is_empty());
        match deciding {
            Some(locale) if locale.starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }
}

macro_rules! texts {
    ($( $key:ident: $en:literal, $zh:literal; )+) => {
        /// A string of the interface. Templates name their values in braces (`{n}`),
        /// filled by [`Text::fill`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Text { $($key),+ }

        impl Text {
            pub const ALL: &'static [Text] = &[$(Text::$key),+];

            pub fn get(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Text::$key, Lang::En) => $en,
                      (Text::$key, Lang::Zh) => $zh,)+
                }
            }
        }
    };
}

texts! {
    // The table sink.
    TableName: "NAME", "名称";
    TableAddress: "ADDRESS", "地址";
    TableCategory: "CATEGORY", "类别";
    TableDetail: "DETAIL", "详情";
    HowToFix: "HOW TO FIX", "处理建议";

    // The end-of-run summary on stderr.
    SummaryTotals: "{total} assets {timing}: {ok} ok, {failed} not ok, {skipped} skipped",
        "共 {total} 个资产{timing}：{ok} 个正常，{failed} 个异常，{skipped} 个跳过";
    SummaryTiming: "in {elapsed} ({rate}/s)", "，用时 {elapsed}（{rate}/秒）";
    SummaryTimingResumed: "({resumed} from the resumed file, {new} new in {elapsed}, {rate}/s)",
        "（{resumed} 个来自续跑的结果文件，本次新增 {new} 个，用时 {elapsed}，{rate}/秒）";
    SummaryInterrupted: ", {n} interrupted", "，{n} 个被中断";
    SummaryInterruptedBy: "interrupted by {signal}: {cut_short} probe(s) cut short (recorded as {category}), {not_probed}",
        "被 {signal} 中断：{cut_short} 个检测未完成（记为 {category}），{not_probed}";
    NotProbedCounted: "{n} inventory row(s) not probed (no record)",
        "{n} 行清单未检测（无记录）";
    NotProbedUncounted: "inventory rows not probed were not counted (the inventory was still being read when the grace ended)",
        "未检测的清单行数未统计（宽限期结束时清单仍在读取）";
    NotProbedAtLeast: "at least {n} inventory row(s) not probed (no record; the inventory was still being read when the grace ended)",
        "至少 {n} 行清单未检测（无记录；宽限期结束时清单仍在读取）";
    SummaryLost: "(internal error: please report)", "（内部错误，请反馈）";
    SummaryShard: "shard {index}/{count}: {here} of {all} rows", "分片 {index}/{count}：共 {all} 行，本分片 {here} 行";
    HostKeysRecorded: "recorded {n} new host key(s) in {file}", "已将 {n} 个新主机密钥记入 {file}";
    HostKeysNotRecorded: "warning: could not record new host keys in {file}: {error}",
        "警告：无法将新主机密钥记入 {file}：{error}";

    // The progress line.
    ProgressResumed: "{n} resumed", "{n} 个已在结果中";
    ProgressEta: "ETA {left}", "预计剩余 {left}";
    ProgressInFlight: "{n} in flight", "{n} 个检测中";
    ProgressRate: "{rate}/s", "{rate}/秒";
    ProgressMore: "+{n} more", "另有 {n} 类";

    // `explain`.
    ExplainStage: "stage:", "阶段：";
    ExplainMeaning: "meaning:", "含义：";
    ExplainFix: "fix:", "处理建议：";
    AnyStage: "any", "任意";
    ListCategory: "category", "类别";
    ListStage: "stage", "阶段";
    ListMeaning: "meaning", "含义";

    // `diff`.
    DiffChange: "change", "变化";
    DiffAsset: "asset", "资产";
    DiffAddress: "address", "地址";
    DiffWas: "was", "之前";
    DiffNow: "now", "现在";
    DiffNoChange: "no change", "没有变化";
    DiffCount: "{n} {change}", "{change} {n} 个";
    NewlyFailing: "Newly failing", "新出现的失败";
    Fixed: "Fixed", "已修复";
    ChangedCategory: "Changed category", "类别改变";
    Added: "Added", "新增";
    Removed: "Removed", "移除";
    NotProbed: "Not probed", "未检测";
}

impl Text {
    /// The template in `lang` with each `{name}` replaced by its value. Values are put in
    /// as they are: braces inside a value (a name from an inventory) are never read as a
    /// placeholder.
    pub fn fill(self, lang: Lang, values: &[(&str, &dyn Display)]) -> String {
        let mut out = String::new();
        let mut rest = self.get(lang);
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let value = after.find('}').and_then(|close| {
                let name = &after[..close];
                let value = values.iter().find(|(n, _)| *n == name)?.1;
                Some((value, close))
            });
            match value {
                Some((value, close)) => {
                    out.push_str(&value.to_string());
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locale(vars: &[(&str, &str)]) -> Lang {
        Lang::from_locale(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_first_locale_variable_set_decides_in_posix_order() {
        assert_eq!(locale(&[]), Lang::En);
        assert_eq!(locale(&[("LANG", "zh_CN.UTF-8")]), Lang::Zh);
        assert_eq!(locale(&[("LANG", "en_US.UTF-8")]), Lang::En);
        assert_eq!(
            locale(&[("LANG", "zh_CN.UTF-8"), ("LC_MESSAGES", "C")]),
            Lang::En
        );
        assert_eq!(
            locale(&[("LC_MESSAGES", "C"), ("LC_ALL", "zh_TW.UTF-8")]),
            Lang::Zh
        );
        // Set but empty is as good as unset.
        assert_eq!(locale(&[("LC_ALL", ""), ("LANG", "zh_CN.GBK")]), Lang::Zh);
    }

    /// The names a template fills, in order.
    fn placeholders(text: Text, lang: Lang) -> Vec<&'static str> {
        let mut names = Vec::new();
        let mut rest = text.get(lang);
        while let Some((_, after)) = rest.split_once('{') {
            let Some((name, tail)) = after.split_once('}') else {
                break;
            };
            names.push(name);
            rest = tail;
        }
        names
    }

    #[test]
    fn every_text_is_in_both_languages_with_the_same_placeholders() {
        for text in Text::ALL {
            assert!(!text.get(Lang::En).is_empty() && !text.get(Lang::Zh).is_empty());
            let mut en = placeholders(*text, Lang::En);
            let mut zh = placeholders(*text, Lang::Zh);
            en.sort_unstable();
            zh.sort_unstable();
            assert_eq!(en, zh, "{text:?}");
        }
    }

    #[test]
    fn fill_puts_values_in_and_leaves_their_braces_alone() {
        let filled = Text::ProgressInFlight.fill(Lang::Zh, &[("n", &"{n}")]);
        assert_eq!(filled, "{n} 个检测中");
        let filled = Text::DiffCount.fill(Lang::En, &[("n", &3), ("change", &"fixed")]);
        assert_eq!(filled, "3 fixed");
    }
}
