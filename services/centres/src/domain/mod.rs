//! The centres' domain: no I/O, no proto, no sqlx.

pub mod access;
pub mod activity;
pub mod booking;
pub mod catalogue;
pub mod centre;
pub mod hours;
pub mod lists;
pub mod matching;
pub mod standard;

/// Free text: trimmed, `min..=max` characters, no control characters.
pub fn parse_text(text: &str, min: usize, max: usize) -> Result<String, String> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars < min || chars > max {
        return Err(if min == 0 {
            format!("must be at most {max} characters")
        } else {
            format!("must be {min}-{max} characters")
        });
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(parse_text("  Hall ", 1, 10).unwrap(), "Hall");
        assert!(parse_text("   ", 1, 10).is_err());
        assert!(parse_text("a\u{7}b", 1, 10).is_err());
        assert!(parse_text(&"x".repeat(11), 1, 10).is_err());
        assert_eq!(parse_text("", 0, 10).unwrap(), "");
    }
}
