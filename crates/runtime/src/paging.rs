//! AIP-158 pagination: page sizes and opaque page tokens bound to the query
//! they came from, so a token cannot be replayed against other filters.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::status::FieldViolations;

/// Page size when the request leaves it at 0.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Larger requests are clamped to this.
pub const MAX_PAGE_SIZE: usize = 1000;

#[derive(Serialize, Deserialize)]
struct Token {
    /// The sort key of the last item returned.
    after: String,
    /// Fingerprint of the request's other fields.
    query: String,
}

/// The effective page size of a request field, or a violation if negative.
pub fn page_size(requested: i32, violations: &mut FieldViolations) -> usize {
    match usize::try_from(requested) {
        Ok(0) => DEFAULT_PAGE_SIZE,
        Ok(size) => size.min(MAX_PAGE_SIZE),
        Err(_) => {
            violations.add("page_size", "must not be negative");
            DEFAULT_PAGE_SIZE
        }
    }
}

/// The sort key to continue after, from `token` issued for `query`; `None`
/// for the first page. A token from another query is a violation.
pub fn decode(token: &str, query: &str, violations: &mut FieldViolations) -> Option<String> {
    if token.is_empty() {
        return None;
    }
    let parsed = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Token>(&bytes).ok());
    match parsed {
        Some(parsed) if parsed.query == query => Some(parsed.after),
        Some(_) => {
            violations.add("page_token", "was issued for a different query");
            None
        }
        None => {
            violations.add("page_token", "is not a token this service issued");
            None
        }
    }
}

/// The token that continues after `after` for `query`.
pub fn encode(after: &str, query: &str) -> String {
    let token = Token {
        after: after.to_owned(),
        query: query.to_owned(),
    };
    // Serializing two strings cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// The row limit of a page query: one more than the page holds, to learn
/// whether another page follows.
pub fn limit(size: usize) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX).saturating_add(1)
}

/// The page of `rows` (fetched with [`limit`]) and the token of the next
/// page for `query`, continuing after `key` of the last row; empty at the end.
pub fn paged<T>(
    mut rows: Vec<T>,
    size: usize,
    query: &str,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, String) {
    if rows.len() > size {
        rows.truncate(size);
        let next = rows
            .last()
            .map(|row| encode(&key(row), query))
            .unwrap_or_default();
        (rows, next)
    } else {
        (rows, String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_token_is_issued_only_when_rows_remain() {
        let (rows, token) = paged(vec![1, 2, 3], 2, "q", |n| n.to_string());
        assert_eq!(rows, vec![1, 2]);
        assert!(!token.is_empty());
        let (rows, token) = paged(vec![1, 2], 2, "q", |n| n.to_string());
        assert_eq!(rows, vec![1, 2]);
        assert!(token.is_empty());
    }

    #[test]
    fn a_token_round_trips_for_its_own_query_only() {
        let token = encode("cells/b", "ancestor=cells/a");
        let mut violations = FieldViolations::new();
        assert_eq!(
            decode(&token, "ancestor=cells/a", &mut violations),
            Some("cells/b".to_owned())
        );
        assert!(violations.is_empty());
        assert_eq!(decode(&token, "ancestor=cells/x", &mut violations), None);
        assert_eq!(violations.violations()[0].0, "page_token");
    }

    #[test]
    fn page_sizes_default_clamp_and_refuse_negatives() {
        let mut violations = FieldViolations::new();
        assert_eq!(page_size(0, &mut violations), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(5000, &mut violations), MAX_PAGE_SIZE);
        assert!(violations.is_empty());
        page_size(-1, &mut violations);
        assert_eq!(violations.violations()[0].0, "page_size");
    }
}
