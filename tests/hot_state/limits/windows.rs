//! Window edges are exact: the manual clock moves, nothing sleeps.

use geoffer::limits::Cap;

use super::harness::{DAY, HOUR, Harness, MINUTE, person, req_n};

conformance!(
    claims_at_t_then_23h59m_then_24h01m_follow_the_daily_cap,
    a_window_frees_exactly_at_the_until_it_announced,
);

async fn claims_at_t_then_23h59m_then_24h01m_follow_the_daily_cap(h: Harness) {
    let p = person(10);
    let t = h.grant(&req_n(&p, 0)).await;
    assert_eq!(t, h.now(), "a grant is stamped with the limiter's clock");

    h.clock.set(t + 23 * HOUR + 59 * MINUTE);
    let denial = h.deny(&req_n(&p, 1), Cap::PersonDay).await;
    assert_eq!(denial.until, Some(t + DAY));
    assert_eq!(denial.held_by.expect("holder").at, t);

    h.clock.set(t + DAY + MINUTE);
    h.grant(&req_n(&p, 2)).await;
}

async fn a_window_frees_exactly_at_the_until_it_announced(h: Harness) {
    let p = person(11);
    h.grant(&req_n(&p, 0)).await;
    h.advance(HOUR);
    let until = h
        .deny(&req_n(&p, 1), Cap::PersonDay)
        .await
        .until
        .expect("until");
    h.clock.set(until - chrono::Duration::milliseconds(1));
    h.deny(&req_n(&p, 2), Cap::PersonDay).await;
    h.clock.set(until);
    h.grant(&req_n(&p, 3)).await;
}
