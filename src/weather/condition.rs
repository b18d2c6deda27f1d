//! Coarse weather condition families and their mapping from WMO codes.

/// Coarse condition family that offer rules can match on.
///
/// Derived from the WMO weather interpretation code (table 4677) that
/// Open-Meteo reports as `weather_code`. Open-Meteo only emits a subset of the
/// table; the mapping below covers that subset:
///
/// | WMO code            | Open-Meteo meaning                         | Condition      |
/// |---------------------|--------------------------------------------|----------------|
/// | 0, 1                | clear sky, mainly clear                    | `Clear`        |
/// | 2, 3                | partly cloudy, overcast                    | `Cloudy`       |
/// | 45, 48              | fog, depositing rime fog                   | `Fog`          |
/// | 51, 53, 55, 56, 57  | drizzle, freezing drizzle                  | `Drizzle`      |
/// | 61, 63, 65, 66, 67  | rain, freezing rain                        | `Rain`         |
/// | 80, 81, 82          | rain showers                               | `Rain`         |
/// | 71, 73, 75, 77      | snow fall, snow grains                     | `Snow`         |
/// | 85, 86              | snow showers                               | `Snow`         |
/// | 95, 96, 99          | thunderstorm (96/99 with hail)             | `Thunderstorm` |
///
/// Freezing drizzle/rain stay drizzle/rain: for offers "wet" matters more than
/// "icy". Whole ranges (e.g. 51..=57) are mapped, not only the listed codes, so a
/// code Open-Meteo may add inside a family still lands in it; codes outside all
/// ranges (4..=44, 58..=60, ...) are not mapped and make the lookup unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Clear or mainly clear sky (WMO 0-1).
    Clear,
    /// Partly cloudy or overcast (WMO 2-3).
    Cloudy,
    /// Fog or rime fog (WMO 45, 48).
    Fog,
    /// Drizzle, including freezing drizzle (WMO 51-57).
    Drizzle,
    /// Rain and rain showers, including freezing rain (WMO 61-67, 80-82).
    Rain,
    /// Snow fall, snow grains and snow showers (WMO 71-77, 85-86).
    Snow,
    /// Thunderstorm, with or without hail (WMO 95-99).
    Thunderstorm,
}

impl Condition {
    /// Every condition, in a stable order (for rule validation and UIs).
    pub const ALL: [Condition; 7] = [
        Condition::Clear,
        Condition::Cloudy,
        Condition::Fog,
        Condition::Drizzle,
        Condition::Rain,
        Condition::Snow,
        Condition::Thunderstorm,
    ];

    /// Lowercase name, identical to the serde representation.
    pub fn as_str(&self) -> &'static str {
        match self {
            Condition::Clear => "clear",
            Condition::Cloudy => "cloudy",
            Condition::Fog => "fog",
            Condition::Drizzle => "drizzle",
            Condition::Rain => "rain",
            Condition::Snow => "snow",
            Condition::Thunderstorm => "thunderstorm",
        }
    }

    /// Parses a name as written in rule configs; case and surrounding
    /// whitespace are ignored because configs are hand-written.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Condition::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    /// Maps a WMO weather interpretation code (see the table on [`Condition`]);
    /// `None` for codes Open-Meteo does not use.
    pub fn from_wmo(code: u16) -> Option<Self> {
        Some(match code {
            0..=1 => Condition::Clear,
            2..=3 => Condition::Cloudy,
            45 | 48 => Condition::Fog,
            51..=57 => Condition::Drizzle,
            61..=67 | 80..=82 => Condition::Rain,
            71..=77 | 85..=86 => Condition::Snow,
            95..=99 => Condition::Thunderstorm,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_open_meteo_documents_maps_to_its_family() {
        let table: &[(&[u16], Condition)] = &[
            (&[0, 1], Condition::Clear),
            (&[2, 3], Condition::Cloudy),
            (&[45, 48], Condition::Fog),
            (&[51, 53, 55, 56, 57], Condition::Drizzle),
            (&[61, 63, 65, 66, 67, 80, 81, 82], Condition::Rain),
            (&[71, 73, 75, 77, 85, 86], Condition::Snow),
            (&[95, 96, 99], Condition::Thunderstorm),
        ];
        for (codes, want) in table {
            for &code in *codes {
                assert_eq!(Condition::from_wmo(code), Some(*want), "code {code}");
            }
        }
    }

    #[test]
    fn codes_outside_the_open_meteo_subset_are_not_mapped() {
        for code in [
            4, 10, 44, 46, 50, 58, 60, 68, 70, 78, 79, 83, 84, 87, 94, 100, 255,
        ] {
            assert_eq!(Condition::from_wmo(code), None, "code {code}");
        }
    }

    #[test]
    fn names_round_trip_through_parse_and_serde() {
        for c in Condition::ALL {
            assert_eq!(Condition::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Condition>(&json).unwrap(), c);
        }
        assert_eq!(Condition::parse(" Rain "), Some(Condition::Rain));
        assert_eq!(Condition::parse("hail"), None);
    }
}
