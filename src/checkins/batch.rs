//! Batched check-ins (`POST /v1/checkins/batch`): reports a phone kept while offline, sent
//! together. Each report goes through [`Engine::decide`], the single check-in's path, so it
//! answers exactly as it would alone (stale ones feed habits and never trigger an offer;
//! retries replay the durable record). A person's reports are decided one after another in
//! the order they were recorded; different people's side by side.

use super::Engine;
use super::admission::Admission;
use super::answer::CheckinAnswer;
use super::input::CheckinInput;
use crate::error::{ApiError, FieldError, Problem};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Most reports one batch may carry.
pub const MAX_BATCH: usize = 100;

/// One report's outcome, at its position in the request.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOutcome {
    /// Position of the report in the request's `checkins`.
    pub index: usize,
    /// The status `POST /v1/checkins` would have answered this report with.
    pub status: u16,
    /// With status 200: the answer, exactly as `POST /v1/checkins` gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::CheckinResponse>)]
    pub answer: Option<CheckinAnswer>,
    /// Otherwise: the problem, as problem+json would carry it; pointers are into the batch
    /// (`/checkins/3/lat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// The answer to a batch: one outcome per report, in request order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// One per report, in the order they were sent.
    pub results: Vec<BatchOutcome>,
}

impl BatchOutcome {
    fn new(index: usize, decided: Result<CheckinAnswer, ApiError>) -> Self {
        match decided {
            Ok(answer) => Self {
                index,
                status: 200,
                answer: Some(answer),
                problem: None,
            },
            Err(e) => {
                let problem = within(index, e).to_problem();
                Self {
                    index,
                    status: problem.status,
                    answer: None,
                    problem: Some(problem),
                }
            }
        }
    }
}

/// Moves a report's field pointers under `/checkins/<index>`.
fn within(index: usize, e: ApiError) -> ApiError {
    let prefix = |errors: Vec<FieldError>| {
        errors
            .into_iter()
            .map(|f| FieldError::new(format!("/checkins/{index}{}", f.pointer), f.reason))
            .collect::<Vec<_>>()
    };
    match e {
        ApiError::Validation { errors, .. } => ApiError::validation(prefix(errors)),
        ApiError::BadRequest { detail, errors } => ApiError::BadRequest {
            detail,
            errors: prefix(errors),
        },
        other => other,
    }
}

impl Engine {
    /// Decides every report of a batch (a report that did not parse keeps its problem).
    /// Refused as a whole (503) when the decision writer's queue is full, before any report
    /// is looked at; a report that meets a full queue later gets its own 503.
    pub async fn decide_batch(
        &self,
        app: &str,
        reports: Vec<Result<CheckinInput, ApiError>>,
        admission: &Admission,
    ) -> Result<BatchResponse, ApiError> {
        self.writer.admit()?;
        let mut results: Vec<Option<BatchOutcome>> = (0..reports.len()).map(|_| None).collect();
        // Per person, in the order recorded (ties: the order sent).
        let mut people: BTreeMap<String, Vec<(usize, CheckinInput)>> = BTreeMap::new();
        for (i, report) in reports.into_iter().enumerate() {
            match report {
                Ok(c) => people.entry(c.user_id.clone()).or_default().push((i, c)),
                Err(e) => results[i] = Some(BatchOutcome::new(i, Err(e))),
            }
        }
        let decided = futures_util::future::join_all(people.into_values().map(|mut reports| {
            reports.sort_by_key(|(i, c)| (c.recorded_at, *i));
            async move {
                let mut out = Vec::with_capacity(reports.len());
                for (i, c) in reports {
                    let answer = match admission.enter().await {
                        Ok(_turn) => self.decide(app, c).await,
                        Err(e) => Err(e),
                    };
                    out.push(BatchOutcome::new(i, answer));
                }
                out
            }
        }))
        .await;
        for outcome in decided.into_iter().flatten() {
            let i = outcome.index;
            results[i] = Some(outcome);
        }
        Ok(BatchResponse {
            results: results.into_iter().flatten().collect(),
        })
    }
}
