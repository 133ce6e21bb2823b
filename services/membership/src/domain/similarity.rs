//! Near-duplicate agreement texts (the speech: co-building agreements "are
//! all the same"). A text is normalised (party names and dates taken out,
//! punctuation and spaces dropped), cut into overlapping character 3-grams
//! (Chinese has no spaces to cut words at; three characters catch most
//! two- and three-character words and their order), and two texts are
//! compared by the Jaccard similarity of their 3-gram sets. No I/O.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// Characters per shingle.
pub const SHINGLE: usize = 3;

/// Chinese numerals as they appear in written dates (二〇二六年六月).
const CHINESE_DIGITS: &str = "〇零一二三四五六七八九十";
/// What follows the number of a date.
const DATE_UNITS: &str = "年月日号";

/// `text` without the `names` of the parties, dates, punctuation and space.
pub fn normalise(text: &str, names: &[&str]) -> String {
    let mut text = text.to_owned();
    // Longest first, so a name containing another goes whole.
    let mut names: Vec<&str> = names.iter().copied().filter(|n| !n.is_empty()).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    for name in names {
        text = text.replace(name, "");
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || ('０'..='９').contains(&c) {
            // Any run of digits: dates, amounts and counts all vary per copy.
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || ('０'..='９').contains(&chars[i])
                    || "-./".contains(chars[i]))
            {
                i += 1;
            }
            if i < chars.len() && DATE_UNITS.contains(chars[i]) {
                i += 1;
            }
            continue;
        }
        if CHINESE_DIGITS.contains(c) {
            // A Chinese numeral is a date only when a date unit ends it.
            let mut j = i;
            while j < chars.len() && CHINESE_DIGITS.contains(chars[j]) {
                j += 1;
            }
            if j < chars.len() && DATE_UNITS.contains(chars[j]) && (j - i > 1 || chars[j] != '日')
            {
                i = j + 1;
                continue;
            }
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
        i += 1;
    }
    out
}

/// The hashed character shingles of a normalised text.
pub fn shingles(normalised: &str) -> HashSet<u64> {
    let chars: Vec<char> = normalised.chars().collect();
    if chars.len() < SHINGLE {
        return std::iter::once(hash(&chars)).collect();
    }
    chars.windows(SHINGLE).map(hash).collect()
}

fn hash(chars: &[char]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    chars.hash(&mut hasher);
    hasher.finish()
}

/// |A ∩ B| / |A ∪ B|; 0 for two empty sets.
pub fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    let common = a.intersection(b).count();
    // Counts of a few thousand: exact in f64.
    common as f64 / union as f64
}

/// The similarity of two agreement texts with their parties' names.
pub fn similarity(a: &str, a_names: &[&str], b: &str, b_names: &[&str]) -> f64 {
    jaccard(
        &shingles(&normalise(a, a_names)),
        &shingles(&normalise(b, b_names)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_names_dates_and_punctuation_are_taken_out() {
        assert_eq!(
            normalise(
                "甲方城东社区党委于2026年3月1日、二〇二六年六月签订。",
                &["城东社区党委"]
            ),
            "甲方于签订"
        );
        // A numeral that is no date stays: 一次, 十名.
        assert_eq!(
            normalise("每季度一次，十名志愿者", &[]),
            "每季度一次十名志愿者"
        );
    }

    #[test]
    fn the_same_text_is_one_and_unrelated_texts_are_near_zero() {
        let text = "社区党委与学校签订共建协议，学校向社区儿童开放图书馆";
        assert!((similarity(text, &[], text, &[]) - 1.0).abs() < f64::EPSILON);
        assert!(similarity(text, &[], "住建局党员干部下沉到老旧小区征求居民意见", &[]) < 0.05);
    }
}
