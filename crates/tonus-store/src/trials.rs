//! Personal trials: the design is kept as the JSON the statistics crate defines, verbatim,
//! with the calendar day its run-in starts.

use jiff::{civil::Date, Timestamp};
use serde::Serialize;
use tonus_domain::{Id, Patient};

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};

/// A stored trial. `design` is opaque JSON here; the statistics crate gives it meaning.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredTrial {
    pub id: Id,
    pub patient_id: Id,
    pub name: String,
    pub start_date: Date,
    pub design: serde_json::Value,
}

type TrialRow = (i64, i64, String, String, String);

fn trial_from_row((id, patient_id, name, start, design): TrialRow) -> Result<StoredTrial, StoreError> {
    let bad = |rule: &str, value: &str| StoreError::Corrupt {
        table: "trials",
        id,
        source: tonus_domain::ValidationError::new("trial", rule, value),
    };
    Ok(StoredTrial {
        id,
        patient_id,
        name,
        start_date: start.parse().map_err(|_| bad("a start date YYYY-MM-DD", &start))?,
        design: serde_json::from_str(&design).map_err(|_| bad("a JSON design", &design))?,
    })
}

impl Store {
    pub async fn insert_trial(
        &self,
        patient: &Patient,
        name: &str,
        start_date: Date,
        design: &serde_json::Value,
    ) -> Result<Id, StoreError> {
        if self.trial_by_name(patient, name).await?.is_some() {
            return Err(StoreError::Conflict(format!("a trial named {name:?} already exists")));
        }
        let now = Timestamp::now().as_millisecond();
        let id: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("INSERT INTO trials (patient_id, name, start_date, design, created_at_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(patient.id).bind(name).bind(start_date.to_string()).bind(design.to_string()).bind(now)
                .fetch_one(pool).await.ctx("saving a trial")?
        });
        Ok(id)
    }

    pub async fn list_trials(&self, patient: &Patient) -> Result<Vec<StoredTrial>, StoreError> {
        let rows: Vec<TrialRow> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, patient_id, name, start_date, design FROM trials WHERE patient_id = $1 ORDER BY start_date, id")
                .bind(patient.id).fetch_all(pool).await.ctx("listing trials")?
        });
        rows.into_iter().map(trial_from_row).collect()
    }

    /// A trial by id or by name (case-insensitive).
    pub async fn find_trial(&self, patient: &Patient, key: &str) -> Result<Option<StoredTrial>, StoreError> {
        let trials = self.list_trials(patient).await?;
        let by_id = key.trim_start_matches('#').parse::<i64>().ok();
        Ok(trials
            .into_iter()
            .find(|t| Some(t.id) == by_id || t.name.eq_ignore_ascii_case(key.trim())))
    }

    async fn trial_by_name(&self, patient: &Patient, name: &str) -> Result<Option<StoredTrial>, StoreError> {
        Ok(self
            .list_trials(patient)
            .await?
            .into_iter()
            .find(|t| t.name.eq_ignore_ascii_case(name.trim())))
    }

    pub async fn delete_trial(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM trials WHERE patient_id = $1 AND id = $2").bind(patient.id).bind(id)
                .execute(pool).await.ctx("deleting a trial")?.rows_affected()
        });
        Ok(n > 0)
    }
}
