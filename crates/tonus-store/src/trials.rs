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
    /// When the plan was saved: a plan saved after `start_date` is not pre-specified.
    pub planned_at: Timestamp,
}

type TrialRow = (i64, i64, String, String, String, i64);

fn trial_from_row((id, patient_id, name, start, design, planned_ms): TrialRow) -> Result<StoredTrial, StoreError> {
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
        planned_at: Timestamp::from_millisecond(planned_ms)
            .map_err(|_| bad("a planning time in milliseconds", &planned_ms.to_string()))?,
    })
}

/// One plan as it was saved. Kept after its trial is deleted, so every plan ever made for
/// the same dates can be listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrialPlanRecord {
    pub id: Id,
    /// The trial this plan created (it may since have been deleted).
    pub trial_id: Id,
    pub name: String,
    pub start_date: Date,
    pub design: serde_json::Value,
    pub planned_at: Timestamp,
    /// When the trial was deleted (only possible before it started).
    pub deleted_at: Option<Timestamp>,
}

type PlanRow = (i64, i64, String, String, String, i64, Option<i64>);

fn plan_from_row(
    (id, trial_id, name, start, design, planned, deleted): PlanRow,
) -> Result<TrialPlanRecord, StoreError> {
    let bad = |rule: &str, value: &str| StoreError::Corrupt {
        table: "trial_plans",
        id,
        source: tonus_domain::ValidationError::new("trial plan", rule, value),
    };
    let ms = |v: i64| Timestamp::from_millisecond(v).map_err(|_| bad("a time in milliseconds", &v.to_string()));
    Ok(TrialPlanRecord {
        id,
        trial_id,
        name,
        start_date: start.parse().map_err(|_| bad("a start date YYYY-MM-DD", &start))?,
        design: serde_json::from_str(&design).map_err(|_| bad("a JSON design", &design))?,
        planned_at: ms(planned)?,
        deleted_at: deleted.map(ms).transpose()?,
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
        let begin = self.write_tx_statement();
        // The trial and its entry in the plan history commit together: no trial without a
        // record of when and how it was planned.
        let id: i64 = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            let id: i64 = sqlx::query_scalar("INSERT INTO trials (patient_id, name, start_date, design, created_at_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(patient.id).bind(name).bind(start_date.to_string()).bind(design.to_string()).bind(now)
                .fetch_one(&mut *tx).await.ctx("saving a trial")?;
            sqlx::query("INSERT INTO trial_plans (patient_id, trial_id, name, start_date, design, planned_at_ms) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(patient.id).bind(id).bind(name).bind(start_date.to_string()).bind(design.to_string()).bind(now)
                .execute(&mut *tx).await.ctx("recording a trial plan")?;
            tx.commit().await.ctx("committing")?;
            id
        });
        Ok(id)
    }

    pub async fn list_trials(&self, patient: &Patient) -> Result<Vec<StoredTrial>, StoreError> {
        let rows: Vec<TrialRow> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, patient_id, name, start_date, design, created_at_ms FROM trials WHERE patient_id = $1 ORDER BY start_date, id")
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

    /// Deletes a trial; its plan stays in the history, marked deleted.
    pub async fn delete_trial(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        let now = Timestamp::now().as_millisecond();
        let begin = self.write_tx_statement();
        let n = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            let n = sqlx::query("DELETE FROM trials WHERE patient_id = $1 AND id = $2").bind(patient.id).bind(id)
                .execute(&mut *tx).await.ctx("deleting a trial")?.rows_affected();
            sqlx::query("UPDATE trial_plans SET deleted_at_ms = $3 WHERE patient_id = $1 AND trial_id = $2 AND deleted_at_ms IS NULL")
                .bind(patient.id).bind(id).bind(now)
                .execute(&mut *tx).await.ctx("marking a trial plan deleted")?;
            tx.commit().await.ctx("committing")?;
            n
        });
        Ok(n > 0)
    }

    /// Every plan the patient ever saved, oldest first, including deleted trials'.
    pub async fn list_trial_plans(&self, patient: &Patient) -> Result<Vec<TrialPlanRecord>, StoreError> {
        let rows: Vec<PlanRow> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, trial_id, name, start_date, design, planned_at_ms, deleted_at_ms FROM trial_plans WHERE patient_id = $1 ORDER BY planned_at_ms, id")
                .bind(patient.id).fetch_all(pool).await.ctx("listing trial plans")?
        });
        rows.into_iter().map(plan_from_row).collect()
    }
}
