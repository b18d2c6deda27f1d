//! The point-in-polygon primitive: one crossing-number step per edge, with
//! exact (robust) orientation so boundary points are recognised exactly.

use geo::{Kernel, Orientation, kernels::RobustKernel};

/// Edges lying exactly on ±180 are the artificial seam of an RFC 7946 cut,
/// not a real boundary, so they are ignored for edge distance.
pub(crate) fn is_seam(a: [f64; 2], b: [f64; 2]) -> bool {
    a[0] == b[0] && a[0].abs() == 180.0
}

/// Result of testing one edge against the ray from the point.
#[derive(PartialEq)]
pub(crate) enum Hit {
    Miss,
    Cross,
    OnEdge,
}

/// Crossing-number step with a half-open rule (an edge counts when one end is
/// <= p.y and the other > p.y) so vertices on the ray are counted once.
/// Uses exact orientation (robust predicates) so "on the edge" is decided
/// exactly: boundary points are reported as `OnEdge`, which counts as inside.
/// `east` selects the ray direction (parity is the same either way).
#[inline]
pub(crate) fn classify(p: [f64; 2], a: [f64; 2], b: [f64; 2], east: bool) -> Hit {
    let (ya, yb) = (a[1], b[1]);
    if (p[1] < ya && p[1] < yb) || (p[1] > ya && p[1] > yb) {
        return Hit::Miss;
    }
    let (xmin, xmax) = if a[0] <= b[0] {
        (a[0], b[0])
    } else {
        (b[0], a[0])
    };
    let straddles = (ya > p[1]) != (yb > p[1]);
    if !straddles {
        // p.y is the upper end (or the edge is horizontal): only "on edge" is possible.
        if p[0] >= xmin && p[0] <= xmax && orient(a, b, p) == Orientation::Collinear {
            return Hit::OnEdge;
        }
        return Hit::Miss;
    }
    if p[0] < xmin {
        return if east { Hit::Cross } else { Hit::Miss };
    }
    if p[0] > xmax {
        return if east { Hit::Miss } else { Hit::Cross };
    }
    match orient(a, b, p) {
        Orientation::Collinear => Hit::OnEdge,
        // Left of an upward edge = west of it, so the east ray crosses it.
        o => {
            let left = o == Orientation::CounterClockwise;
            if (yb > ya) == (left == east) {
                Hit::Cross
            } else {
                Hit::Miss
            }
        }
    }
}

#[inline]
fn orient(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> Orientation {
    let c = |v: [f64; 2]| geo::Coord { x: v[0], y: v[1] };
    <RobustKernel as Kernel<f64>>::orient2d(c(a), c(b), c(p))
}
