//! Tags on fences and interests on people.

/// Tags are lowercase words joined by `-`, so brands cannot create near-duplicates by case.
pub fn check_tag(tag: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{tag}` must be 1-64 lowercase letters, digits or '-'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_lowercase_words() {
        assert!(check_tag("corner-store").is_ok());
        assert!(check_tag("Corner Store").is_err());
        assert!(check_tag("").is_err());
    }
}
