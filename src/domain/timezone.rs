//! IANA time zones.

use chrono_tz::Tz;
use std::fmt;

/// A known IANA time zone, e.g. `America/New_York`; schedules and quiet hours use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timezone(Tz);

impl Timezone {
    /// Validates an IANA zone name.
    pub fn parse(s: &str) -> Result<Self, String> {
        s.parse::<Tz>().map(Self).map_err(|_| {
            format!("`{s}` is not a known IANA time zone (for example `America/New_York`)")
        })
    }
    /// The chrono-tz zone.
    pub fn tz(self) -> Tz {
        self.0
    }
    /// The zone's name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_real_zones_and_refuses_made_up_ones() {
        assert_eq!(
            Timezone::parse("America/New_York").unwrap().name(),
            "America/New_York"
        );
        assert!(Timezone::parse("Mars/Olympus_Mons").is_err());
        assert!(Timezone::parse("").is_err());
    }
}
