//! Side effects. The suspected treatment is named by the patient and stored as a reference to
//! one of that patient's own treatments: a name that matches none of them is refused (naming
//! the field), never linked to another patient's treatment and never silently dropped.

use jiff::civil::Date;
use jiff::Timestamp;
use tonus_domain::{Id, Patient, SideEffect, ValidationError};

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};
use crate::rows::{SideEffectRow, Stored, SIDE_EFFECT_COLUMNS};

pub(crate) const INSERT: &str = "INSERT INTO side_effects (patient_id, at_ms, time_zone, local_date, effect, description, severity, treatment_id, note, recorded_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
const UPDATE: &str = "UPDATE side_effects SET at_ms = $3, time_zone = $4, local_date = $5, effect = $6, description = $7, severity = $8, treatment_id = $9, note = $10 WHERE patient_id = $1 AND id = $2";

/// Binds a side effect's columns from `at_ms` to `note`, with the resolved treatment id.
macro_rules! bind_side_effect {
    ($q:expr, $s:expr, $treatment:expr) => {{
        let s: &tonus_domain::SideEffect = $s;
        let treatment: Option<i64> = $treatment;
        $q.bind(s.at().millis())
            .bind(s.at().zone.name().to_string())
            .bind(s.at().local_date().to_string())
            .bind(s.effect().code())
            .bind(s.description().map(str::to_string))
            .bind(s.severity().code())
            .bind(treatment)
            .bind(s.note().map(str::to_string))
    }};
}
pub(crate) use bind_side_effect;

/// The id of the patient's treatment called `name` (ignoring case, as imports match names).
pub(crate) fn find_treatment(treatments: &[(i64, String)], name: &str) -> Result<Id, StoreError> {
    let wanted = name.trim().to_lowercase();
    treatments
        .iter()
        .find(|(_, n)| n.to_lowercase() == wanted)
        .map(|(id, _)| *id)
        .ok_or_else(|| {
            StoreError::Invalid(ValidationError::new(
                "suspected_treatment",
                "the name of one of your treatments (add the treatment first)",
                format!("{name:?}"),
            ))
        })
}

/// The id of the treatment `$effect` names, read through the open transaction `$tx`.
macro_rules! suspected_id {
    ($tx:ident, $patient:expr, $effect:expr) => {
        match $effect.suspected_treatment() {
            Some(name) => {
                let names: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM treatments WHERE patient_id = $1")
                    .bind($patient.id)
                    .fetch_all(&mut *$tx)
                    .await
                    .ctx("reading treatments")?;
                Some($crate::side_effects::find_treatment(&names, name)?)
            }
            None => None,
        }
    };
}
pub(crate) use suspected_id;

impl Store {
    pub async fn insert_side_effect(&self, patient: &Patient, effect: &SideEffect) -> Result<Id, StoreError> {
        let begin = self.write_tx_statement();
        let now = Timestamp::now().as_millisecond();
        // The name is resolved inside the write transaction, so the treatment cannot be
        // deleted between the lookup and the insert.
        let id: i64 = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            let treatment = suspected_id!(tx, patient, effect);
            let id: i64 = bind_side_effect!(sqlx::query_scalar(INSERT).bind(patient.id), effect, treatment)
                .bind(now)
                .fetch_one(&mut *tx).await.ctx("saving a side effect")?;
            tx.commit().await.ctx("committing")?;
            id
        });
        Ok(id)
    }

    /// Replaces a stored side effect; `false` when the patient has none with this id.
    pub async fn update_side_effect(&self, patient: &Patient, id: Id, effect: &SideEffect) -> Result<bool, StoreError> {
        let begin = self.write_tx_statement();
        let n = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            let treatment = suspected_id!(tx, patient, effect);
            let n = bind_side_effect!(sqlx::query(UPDATE).bind(patient.id).bind(id), effect, treatment)
                .execute(&mut *tx).await.ctx("updating a side effect")?.rows_affected();
            tx.commit().await.ctx("committing")?;
            n
        });
        Ok(n > 0)
    }

    /// Side effects felt on local days `from..=to`, oldest first.
    pub async fn list_side_effects(
        &self,
        patient: &Patient,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<Stored<SideEffect>>, StoreError> {
        let lo = from.map_or_else(|| "0000-01-01".to_string(), |d| d.to_string());
        let hi = to.map_or_else(|| "9999-12-31".to_string(), |d| d.to_string());
        let sql = format!("SELECT {SIDE_EFFECT_COLUMNS} FROM side_effects s LEFT JOIN treatments t ON t.id = s.treatment_id WHERE s.patient_id = $1 AND s.local_date >= $2 AND s.local_date <= $3 ORDER BY s.at_ms, s.id");
        let rows: Vec<SideEffectRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(&lo).bind(&hi).fetch_all(pool).await.ctx("listing side effects")?
        });
        rows.into_iter().map(SideEffectRow::into_domain).collect()
    }

    pub async fn get_side_effect(&self, patient: &Patient, id: Id) -> Result<Option<Stored<SideEffect>>, StoreError> {
        let sql = format!("SELECT {SIDE_EFFECT_COLUMNS} FROM side_effects s LEFT JOIN treatments t ON t.id = s.treatment_id WHERE s.patient_id = $1 AND s.id = $2");
        let row: Option<SideEffectRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(id).fetch_optional(pool).await.ctx("reading a side effect")?
        });
        row.map(SideEffectRow::into_domain).transpose()
    }

    pub async fn delete_side_effect(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM side_effects WHERE patient_id = $1 AND id = $2")
                .bind(patient.id).bind(id).execute(pool).await.ctx("deleting a side effect")?.rows_affected()
        });
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn treatment_names_match_ignoring_case_and_unknown_names_name_the_field() {
        let names = vec![(7, "Baclofen".to_string()), (9, "Vitamin D".to_string())];
        assert_eq!(find_treatment(&names, " baclofen ").unwrap(), 7);
        assert_eq!(find_treatment(&names, "VITAMIN D").unwrap(), 9);
        match find_treatment(&names, "Tizanidine") {
            Err(StoreError::Invalid(e)) => assert_eq!(e.field, "suspected_treatment"),
            other => panic!("expected an invalid name, got {other:?}"),
        }
    }
}
