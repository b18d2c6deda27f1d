//! ~5 km grid cells used as the cache key.
//!
//! Weather does not change meaningfully within a few kilometres, so every point
//! in a cell shares one upstream answer (fetched for the cell centre). That
//! bounds upstream traffic by the number of busy cells, not by the number of
//! people.

/// Cell height in degrees of latitude (0.05° ≈ 5.6 km everywhere).
pub(crate) const CELL_DEG: f64 = 0.05;

/// Number of latitude rows from the south to the north pole.
const ROWS: i32 = (180.0 / CELL_DEG) as i32;

/// A grid cell of roughly 5 km × 5 km.
///
/// Rows are 0.05° of latitude. Within a row, the longitude step is widened by
/// 1/cos(latitude of the row centre), so cells stay ~5 km wide away from the
/// equator instead of shrinking towards the poles; it is then rounded so that
/// a whole number of cells wraps the globe (no sliver cell at ±180°).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GridCell {
    /// Latitude row, 0 at the south pole.
    pub row: i32,
    /// Longitude column within the row, 0 at -180°.
    pub col: i32,
}

impl GridCell {
    /// The cell containing `lat`/`lon` (degrees; latitude is clamped to
    /// ±90 and longitude wrapped, so callers need not pre-validate for safety).
    pub fn of(lat: f64, lon: f64) -> Self {
        let lat = lat.clamp(-90.0, 90.0);
        let row = (((lat + 90.0) / CELL_DEG).floor() as i32).clamp(0, ROWS - 1);
        let cols = columns_in_row(row);
        let lon = (lon + 180.0).rem_euclid(360.0);
        let col = ((lon / (360.0 / cols as f64)).floor() as i32).clamp(0, cols - 1);
        GridCell { row, col }
    }

    /// Centre of the cell as (lat, lon), rounded to 4 decimals (~10 m) so the
    /// upstream URL stays short and stable.
    pub fn centre(&self) -> (f64, f64) {
        let lat = row_centre_lat(self.row);
        let step = 360.0 / columns_in_row(self.row) as f64;
        let lon = -180.0 + (self.col as f64 + 0.5) * step;
        (round4(lat), round4(lon))
    }
}

fn row_centre_lat(row: i32) -> f64 {
    -90.0 + (row as f64 + 0.5) * CELL_DEG
}

fn columns_in_row(row: i32) -> i32 {
    let cos = row_centre_lat(row).to_radians().cos();
    ((360.0 * cos / CELL_DEG).floor() as i32).max(1)
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn km_between(a: (f64, f64), b: (f64, f64)) -> f64 {
        crate::weather::recorded::haversine_km(a.0, a.1, b.0, b.1)
    }

    #[test]
    fn nearby_points_share_a_cell_and_its_centre_lies_inside_it() {
        let a = GridCell::of(52.5201, 13.4049);
        let b = GridCell::of(52.5202, 13.4051);
        assert_eq!(a, b);
        let (clat, clon) = a.centre();
        assert_eq!(GridCell::of(clat, clon), a);
    }

    #[test]
    fn cells_stay_about_five_km_wide_at_high_latitudes() {
        for lat in [0.0, 45.0, 60.0, 70.0] {
            let cell = GridCell::of(lat, 10.0);
            let east = GridCell {
                col: cell.col + 1,
                ..cell
            };
            let width = km_between(cell.centre(), east.centre());
            assert!((5.0..6.2).contains(&width), "lat {lat}: width {width} km");
        }
    }

    #[test]
    fn poles_and_the_antimeridian_do_not_break_the_grid() {
        let north = GridCell::of(90.0, 0.0);
        assert_eq!(north.row, ROWS - 1);
        assert_eq!(GridCell::of(-90.0, 0.0).row, 0);
        assert_eq!(GridCell::of(10.0, 180.0), GridCell::of(10.0, -180.0));
        let (lat, lon) = GridCell::of(10.0, 179.99).centre();
        assert!(lat.is_finite() && (-180.0..=180.0).contains(&lon));
    }
}
