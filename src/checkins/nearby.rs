//! The fences around a person that could matter to them (`GET /v1/fences/nearby`): what an
//! SDK registers with the operating system (iOS monitors 20 regions, Android 100), so the
//! phone wakes on a crossing instead of reporting every fix (docs/sdk.md).
//!
//! Consent-gated like a check-in (the same gate, the same 403). Read from memory (the
//! catalog's R-tree and offers) plus one read-only limiter call on the person's slot; the
//! position is neither stored nor logged.

use super::Engine;
use super::triggers::targets;
use crate::catalog::FenceInfo;
use crate::domain::{Latitude, Longitude};
use crate::error::ApiError;
use crate::limits::Ask;
use crate::offers::{Offer, OfferStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// Most fences one answer lists.
pub const MAX_NEARBY: usize = 100;
/// Fences listed when the app does not say.
pub const DEFAULT_NEARBY: usize = 20;
/// Search radii, widened until enough fences are found; past the last nothing is listed and
/// the app asks again after moving that far.
const SEARCH_RADII_M: [f64; 4] = [2_000.0, 10_000.0, 50_000.0, 200_000.0];
/// Fences whose caps are read per answer, as a multiple of what is listed: enough that a
/// person capped at a few brands still gets a full list, bounded so one call stays small.
const CHECKED_FACTOR: usize = 3;

/// A nearby-fences question, validated.
pub struct NearbyQuery {
    /// The app's user id.
    pub user_id: String,
    /// Where the person is.
    pub lat: Latitude,
    /// Where the person is.
    pub lon: Longitude,
    /// How many fences to list (1..=100).
    pub limit: usize,
}

/// What the OS should watch: the fence itself, or a circle covering it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NearbyShape {
    /// The fence is this circle.
    Circle,
    /// The fence is a polygon inside this circle: a crossing of the circle is worth a check-in,
    /// the server decides whether the person is in the fence.
    BoundingCircle,
}

/// One fence to register with the operating system.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NearbyFence {
    /// The fence id.
    pub id: uuid::Uuid,
    /// Centre latitude, degrees.
    pub lat: f64,
    /// Centre longitude, degrees.
    pub lon: f64,
    /// Radius of the circle to register, metres.
    pub radius_m: f64,
    /// Whether the circle is the fence or covers it.
    pub shape: NearbyShape,
    /// Metres from the position asked about to the circle's edge (0 inside), rounded.
    pub distance_m: f64,
}

/// The answer: the fences nearest first, and when to ask again.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NearbyFences {
    /// At most `limit` fences, nearest first: each has a live offer the person is not capped
    /// or cooled down for.
    pub fences: Vec<NearbyFence>,
    /// Ask again once the person is this many metres from the position asked about: no fence
    /// left out of the list is nearer than that (caps and catalog edits also change the
    /// list, so an SDK asks again after a while too; docs/sdk.md).
    pub refresh_after_m: f64,
}

/// A fence near the person, its distance (metres) and its live offers that target it.
type Found = (Arc<FenceInfo>, f64, Vec<Arc<Offer>>);

/// Is the offer live now: active and within its validity?
fn live(offer: &Offer, now: DateTime<Utc>) -> bool {
    let s = &offer.spec;
    s.status == OfferStatus::Active
        && s.valid_from.is_none_or(|f| now >= f)
        && s.valid_until.is_none_or(|u| now <= u)
}

impl Engine {
    /// The fences near the person that could yield an offer for them, nearest first.
    pub async fn nearby(&self, app: &str, q: NearbyQuery) -> Result<NearbyFences, ApiError> {
        let (person, _) = self.require_consent(app, &q.user_id).await?;
        if self.catalog.is_stale() {
            return Err(ApiError::Unavailable(
                "the fence catalog is behind the database's change log; retry later".into(),
            ));
        }
        let now = self.clock.now();
        let (lat, lon) = (q.lat.degrees(), q.lon.degrees());
        // Widen the search until it holds one more fence with a live offer than is listed:
        // that one bounds `refresh_after_m`.
        let mut radius = SEARCH_RADII_M[0];
        let mut found = Vec::new();
        for r in SEARCH_RADII_M {
            radius = r;
            found = self.with_live_offers(lat, lon, r, now);
            if found.len() > q.limit {
                break;
            }
        }
        let checked = found.len().min(CHECKED_FACTOR * (q.limit + 1));
        let mut refresh = found.get(checked).map_or(radius, |f| f.1);
        let open = self.open(person.as_str(), &found[..checked]).await;
        let mut fences = Vec::with_capacity(q.limit);
        for ((info, d, _), open) in found[..checked].iter().zip(open) {
            if !open {
                continue;
            }
            if fences.len() == q.limit {
                refresh = refresh.min(*d);
                break;
            }
            fences.push(NearbyFence {
                id: info.id,
                lat: info.reach.lat,
                lon: info.reach.lon,
                radius_m: info.reach.radius_m,
                shape: match info.radius_m {
                    Some(_) => NearbyShape::Circle,
                    None => NearbyShape::BoundingCircle,
                },
                distance_m: d.round(),
            });
        }
        Ok(NearbyFences {
            fences,
            refresh_after_m: refresh.floor(),
        })
    }

    /// Fences within `radius_m`, nearest first, with the live offers that target each.
    fn with_live_offers(
        &self,
        lat: f64,
        lon: f64,
        radius_m: f64,
        now: DateTime<Utc>,
    ) -> Vec<Found> {
        self.catalog
            .nearby(lat, lon, radius_m)
            .into_iter()
            .filter_map(|(info, d)| {
                let offers: Vec<_> = self
                    .catalog
                    .offers_of(&info.brand)
                    .into_iter()
                    .filter(|o| live(o, now) && targets(o, &info))
                    .collect();
                (!offers.is_empty()).then_some((info, d, offers))
            })
            .collect()
    }

    /// For each fence, whether some offer there still fits the person's caps: one read-only
    /// limiter call. If the limiter cannot answer, every fence stays listed: the list is
    /// advisory, and the claim at check-in time fails closed anyway.
    async fn open(&self, person: &str, fences: &[Found]) -> Vec<bool> {
        let mut asks = Vec::new();
        let mut owner = Vec::new();
        for (i, (info, _, offers)) in fences.iter().enumerate() {
            for offer in offers {
                asks.push(Ask {
                    brand: info.brand.to_string(),
                    offer_id: offer.id.to_string(),
                    fence_id: info.id.to_string(),
                    caps: self.caps_for(offer),
                });
                owner.push(i);
            }
        }
        let mut open = vec![false; fences.len()];
        match self.limiter.peek(person, &asks).await {
            Ok(caps) => {
                for (i, cap) in owner.into_iter().zip(caps) {
                    open[i] |= cap.is_none();
                }
            }
            Err(e) => {
                self.metrics.limiter_error();
                tracing::warn!(error = %e, "nearby fences listed without reading caps");
                open.fill(true);
            }
        }
        open
    }
}
