//! Visits in Redis: one Lua script per check-in over the person's own hash.

use super::{
    EXIT_MEMORY_MS, Gated, HORIZON_MS, Habits, HabitsError, Leaving, Left, MAX_VISITS, Observed,
    Place, PlaceHistory, SIGHTING_TTL_MS, Sighting, Track, VISIT_GAP_MS, VISIT_TTL_MS, Visit,
    VisitEvent, VisitKind,
};
use crate::people::gate::Allowed;
use crate::redis_conns::{Calls, PerThread};
use async_trait::async_trait;
use redis::Script;
use std::sync::Arc;
use std::sync::LazyLock;
use std::time::Duration;

static VISITS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("visits.lua")));

/// The script's answer: each place's (start, visits), the previous sighting (fence, at), the
/// events (kind, fence, at), the visits (fence, enter, last, dwelled, exit or '', brand),
/// whether the visit state moved, the consent entry read ('' unless asked) and whether the
/// report was a retry of one outside every fence.
type Answer = (
    Vec<(i64, Vec<String>)>,
    String,
    i64,
    Vec<(String, String, i64)>,
    Vec<(String, i64, i64, i64, String, String)>,
    i64,
    String,
    i64,
);

/// How the script is asked: mode, whether it reads the consent entry first, the retry key,
/// the report's time and the clock's.
struct Ask<'a> {
    leave: bool,
    read_gate: bool,
    key: &'a str,
    at_ms: i64,
    now_ms: i64,
}

/// Visit history in Redis: one hash per person, `{prefix}{u:<person>}:hab`, which also holds
/// the last sighting; without places (no personalization consent) the sighting is a key of its
/// own beside it, `{prefix}{u:<person>}:seen`, which Redis expires after 6 hours. The visit
/// state (enter, dwell, exit) is `{prefix}{u:<person>}:vis`, expiring a day after the last
/// report: three keys, one slot, one script. A report outside every fence reads the consent
/// gate's entry, `{prefix}{u:<person>}:consent` (the `RedisGate` over the same prefix keeps it),
/// in the same script.
#[derive(Clone)]
pub struct RedisHabits {
    conns: Arc<PerThread>,
    prefix: String,
    calls: Calls,
}

impl RedisHabits {
    /// Uses connections shared with the consent gate; every call is bounded by `timeout`.
    pub fn new(conns: Arc<PerThread>, prefix: &str, timeout: Duration) -> Self {
        Self {
            conns,
            prefix: prefix.to_string(),
            calls: Calls::new(timeout),
        }
    }

    /// Bounds and counts calls with `calls` (shared, so their metrics are exported once).
    pub fn with_calls(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    /// The person's habit hash; the hash tag matches the limiter's, so one person's hot
    /// state sits on one Redis Cluster slot.
    fn key(&self, person: &str) -> String {
        format!("{}{{u:{person}}}:hab", self.prefix)
    }

    /// The person's last sighting, on the same slot.
    fn sighting_key(&self, person: &str) -> String {
        format!("{}{{u:{person}}}:seen", self.prefix)
    }

    /// The person's visit state, on the same slot.
    fn visits_key(&self, person: &str) -> String {
        format!("{}{{u:{person}}}:vis", self.prefix)
    }

    /// The consent gate's entry, on the same slot (`RedisGate::key`).
    fn consent_key(&self, person: &str) -> String {
        format!("{}{{u:{person}}}:consent", self.prefix)
    }

    /// Runs `visits.lua` once.
    async fn run(
        &self,
        op: &'static str,
        person: &str,
        places: &[(Place, u8)],
        fence: Option<&str>,
        track: &Track,
        ask: Ask<'_>,
    ) -> Result<Answer, HabitsError> {
        let mut inv = VISITS.prepare_invoke();
        inv.key(self.key(person))
            .key(self.sighting_key(person))
            .key(self.visits_key(person))
            .key(self.consent_key(person))
            .arg(ask.at_ms)
            .arg(ask.now_ms)
            .arg(HORIZON_MS)
            .arg(VISIT_GAP_MS)
            .arg(MAX_VISITS)
            .arg(HORIZON_MS + 86_400_000)
            .arg(fence.unwrap_or(""))
            .arg(SIGHTING_TTL_MS)
            .arg(track.dwell_ms)
            .arg(track.timeout_ms)
            .arg(EXIT_MEMORY_MS)
            .arg(VISIT_TTL_MS)
            .arg(if ask.leave { "leave" } else { "" })
            .arg(if ask.read_gate { "1" } else { "0" })
            .arg(ask.key)
            .arg(track.inside.len());
        for (fence, brand) in &track.inside {
            inv.arg(fence).arg(brand);
        }
        inv.arg(track.near.len());
        for fence in &track.near {
            inv.arg(fence);
        }
        for (place, hour) in places {
            inv.arg(place.key()).arg(*hour);
        }
        let mut conn = self.conns.get().await;
        self.bounded(op, inv.invoke_async(&mut conn)).await
    }

    /// Runs the script to observe a report; the consent entry read ('' unless asked) and
    /// what it observed.
    async fn observed(
        &self,
        op: &'static str,
        person: &str,
        places: &[(Place, u8)],
        fence: Option<&str>,
        track: &Track,
        ask: Ask<'_>,
    ) -> Result<(String, Observed), HabitsError> {
        let (raw, previous, previous_at, events, visits, moved, entry, _) =
            self.run(op, person, places, fence, track, ask).await?;
        let previous = (!previous.is_empty()).then_some(Sighting {
            fence: previous,
            at_ms: previous_at,
        });
        let places = raw
            .into_iter()
            .map(|(current_start, members)| PlaceHistory {
                current_start,
                visits: members
                    .iter()
                    .filter_map(|m| {
                        let (t, h) = m.split_once(':')?;
                        Some((t.parse().ok()?, h.parse().ok()?))
                    })
                    .collect(),
            })
            .collect();
        let (events, visits) = (events_of(events), visits_of(visits));
        let observed = Observed {
            places,
            previous,
            events,
            visits,
            visits_moved: moved == 1,
        };
        Ok((entry, observed))
    }

    async fn bounded<T>(
        &self,
        op: &'static str,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, HabitsError> {
        self.calls
            .bounded(op, f)
            .await
            .map_err(|e| HabitsError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl Habits for RedisHabits {
    async fn observe(
        &self,
        person: &str,
        places: &[(Place, u8)],
        fence: Option<&str>,
        track: &Track,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<Observed, HabitsError> {
        if places.is_empty() && fence.is_none() && !track.is_on() {
            return Ok(Observed::default());
        }
        let ask = Ask {
            leave: false,
            read_gate: false,
            key: "",
            at_ms,
            now_ms,
        };
        let (_, observed) = self
            .observed("habits_observe", person, places, fence, track, ask)
            .await?;
        Ok(observed)
    }

    async fn observe_gated(
        &self,
        person: &str,
        places: &[(Place, u8)],
        fence: Option<&str>,
        track: &Track,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<Gated, HabitsError> {
        let ask = Ask {
            leave: false,
            read_gate: true,
            key: "",
            at_ms,
            now_ms,
        };
        let (entry, observed) = self
            .observed("habits_observe_gated", person, places, fence, track, ask)
            .await?;
        Ok(Gated {
            gate: Allowed::decode(&entry),
            observed,
        })
    }

    async fn leave(
        &self,
        person: &str,
        checked: bool,
        track: &Track,
        key: &str,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<Leaving, HabitsError> {
        let ask = Ask {
            leave: true,
            read_gate: !checked,
            key,
            at_ms,
            now_ms,
        };
        let (_, _, _, events, visits, _, entry, retry) = self
            .run("habits_leave", person, &[], None, track, ask)
            .await?;
        Ok(Leaving {
            gate: Allowed::decode(&entry),
            left: Left {
                events: events_of(events),
                visits: visits_of(visits),
                retry: retry == 1,
            },
        })
    }

    async fn forget(&self, person: &str) -> Result<(), HabitsError> {
        let mut conn = self.conns.get().await;
        self.bounded(
            "habits_forget",
            redis::cmd("DEL")
                .arg(self.key(person))
                .arg(self.sighting_key(person))
                .arg(self.visits_key(person))
                .query_async::<()>(&mut conn),
        )
        .await
    }
}

fn events_of(raw: Vec<(String, String, i64)>) -> Vec<VisitEvent> {
    raw.into_iter()
        .filter_map(|(kind, fence, at_ms)| {
            Some(VisitEvent {
                kind: VisitKind::parse(&kind)?,
                fence,
                at_ms,
            })
        })
        .collect()
}

fn visits_of(
    raw: Vec<(String, i64, i64, i64, String, String)>,
) -> std::collections::BTreeMap<String, Visit> {
    raw.into_iter()
        .map(|(fence, enter_ms, last_ms, dwelled, exit, brand)| {
            let visit = Visit {
                enter_ms,
                last_ms,
                dwelled: dwelled == 1,
                exit_ms: exit.parse().ok(),
                brand,
            };
            (fence, visit)
        })
        .collect()
}
