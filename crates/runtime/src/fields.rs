//! Request fields every service parses the same way: etags and update
//! masks (AIP-154 and AIP-134). Each records a violation naming the field
//! instead of failing, so a request comes back with every bad field at once.

use crate::status::FieldViolations;

/// The version an etag stands for. Every service returns the decimal
/// version, quoted (`"7"`); the quotes are optional on the way back in.
/// Empty means an unguarded update (`None`, no violation); anything else
/// that is not a version is a violation on `field`.
pub fn etag(text: &str, field: &str, violations: &mut FieldViolations) -> Option<i64> {
    if text.is_empty() {
        return None;
    }
    let version = text.trim_matches('"').parse::<i64>().ok();
    if version.is_none() {
        violations.add(field, "must be empty or an etag returned by this service");
    }
    version
}

/// The paths of an update's field mask; a mask naming none is a violation
/// on `update_mask` that lists the paths the resource can update.
pub fn update_paths<'a>(
    mask: Option<&'a prost_types::FieldMask>,
    updatable: &str,
    violations: &mut FieldViolations,
) -> &'a [String] {
    let paths = mask.map(|mask| mask.paths.as_slice()).unwrap_or_default();
    if paths.is_empty() {
        violations.add(
            "update_mask",
            format!("must name at least one of {updatable}"),
        );
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_is_its_quoted_or_bare_version_and_anything_else_is_named() {
        let mut violations = FieldViolations::new();
        assert_eq!(etag("\"7\"", "cell.etag", &mut violations), Some(7));
        assert_eq!(etag("7", "cell.etag", &mut violations), Some(7));
        assert_eq!(etag("", "cell.etag", &mut violations), None);
        assert!(violations.is_empty());
        assert_eq!(etag("W/\"x\"", "cell.etag", &mut violations), None);
        assert_eq!(violations.violations()[0].0, "cell.etag");
    }

    #[test]
    fn an_empty_update_mask_names_the_updatable_paths() {
        let mut violations = FieldViolations::new();
        let mask = prost_types::FieldMask {
            paths: vec!["display_name".to_owned()],
        };
        assert_eq!(
            update_paths(Some(&mask), "display_name", &mut violations),
            ["display_name"]
        );
        assert!(violations.is_empty());
        assert!(update_paths(None, "display_name, newly_built", &mut violations).is_empty());
        assert_eq!(
            violations.violations(),
            [(
                "update_mask".to_owned(),
                "must name at least one of display_name, newly_built".to_owned()
            )]
        );
    }
}
