//! Treatments, their regimens and the dose log. A dose change ends one regimen and starts the
//! next in one transaction; a foreign treatment or regimen id inserts nothing.

use jiff::civil::Date;
use tonus_domain::{DoseLog, Id, Patient, Regimen, Treatment};

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};
use crate::repo::{bind_dose, bounds, StoredRegimen, StoredTreatment, INSERT_DOSE};
use crate::rows::{DoseLogRow, RegimenRow, Stored, DOSE_LOG_COLUMNS};

impl Store {
    // ----- treatments and regimens -----

    pub async fn insert_treatment(&self, patient: &Patient, treatment: &Treatment) -> Result<Id, StoreError> {
        if self.treatment_by_name(patient, treatment.name()).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a treatment named {:?} already exists",
                treatment.name()
            )));
        }
        let id: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("INSERT INTO treatments (patient_id, name, category, notes) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(patient.id).bind(treatment.name()).bind(treatment.category().code()).bind(treatment.notes().map(str::to_string))
                .fetch_one(pool).await.ctx("saving a treatment")?
        });
        Ok(id)
    }

    pub async fn list_treatments(&self, patient: &Patient) -> Result<Vec<StoredTreatment>, StoreError> {
        let rows: Vec<(i64, String, String, Option<String>)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, name, category, notes FROM treatments WHERE patient_id = $1 ORDER BY name")
                .bind(patient.id).fetch_all(pool).await.ctx("listing treatments")?
        });
        rows.into_iter()
            .map(|(id, name, category, notes)| {
                let t = tonus_domain::Category::parse(&category)
                    .and_then(|c| Treatment::new(&name, c, notes.as_deref()))
                    .map_err(|source| StoreError::Corrupt {
                        table: "treatments",
                        id,
                        source,
                    })?;
                Ok(StoredTreatment {
                    id,
                    patient_id: patient.id,
                    value: t,
                })
            })
            .collect()
    }

    /// Finds a treatment by name, ignoring case.
    pub async fn treatment_by_name(
        &self,
        patient: &Patient,
        name: &str,
    ) -> Result<Option<StoredTreatment>, StoreError> {
        let wanted = name.trim().to_lowercase();
        Ok(self
            .list_treatments(patient)
            .await?
            .into_iter()
            .find(|t| t.value.name().to_lowercase() == wanted))
    }

    /// Renames or recategorises a treatment, or changes its notes; a name another of the
    /// patient's treatments has (ignoring case) is refused.
    pub async fn update_treatment(&self, patient: &Patient, id: Id, treatment: &Treatment) -> Result<bool, StoreError> {
        if let Some(other) = self.treatment_by_name(patient, treatment.name()).await? {
            if other.id != id {
                return Err(StoreError::Invalid(tonus_domain::ValidationError::new(
                    "name",
                    "a name not used by another of your treatments",
                    format!("{:?}", treatment.name()),
                )));
            }
        }
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE treatments SET name = $3, category = $4, notes = $5 WHERE patient_id = $1 AND id = $2")
                .bind(patient.id).bind(id).bind(treatment.name()).bind(treatment.category().code())
                .bind(treatment.notes().map(str::to_string))
                .execute(pool).await.ctx("updating a treatment")?.rows_affected()
        });
        Ok(n > 0)
    }

    pub async fn delete_treatment(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        self.delete_by_id("treatments", patient, id).await
    }

    pub async fn insert_regimen(
        &self,
        patient: &Patient,
        treatment_id: Id,
        regimen: &Regimen,
    ) -> Result<Id, StoreError> {
        // Inserting through SELECT … FROM treatments makes a foreign treatment id insert nothing.
        const SQL: &str = "INSERT INTO regimens (patient_id, treatment_id, dose_amount, dose_unit, route, schedule, start_date, end_date) SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM treatments WHERE id = $2 AND patient_id = $1 RETURNING id";
        let id: Option<i64> = on_pool!(self, pool => {
            sqlx::query_scalar(SQL)
                .bind(patient.id).bind(treatment_id)
                .bind(regimen.dose().map(|d| d.amount())).bind(regimen.dose().map(|d| d.unit().code()))
                .bind(regimen.route().map(|r| r.code())).bind(regimen.schedule().code())
                .bind(regimen.start().to_string()).bind(regimen.end().map(|d| d.to_string()))
                .fetch_optional(pool).await.ctx("saving a regimen")?
        });
        id.ok_or_else(|| StoreError::Conflict(format!("treatment {treatment_id} does not exist")))
    }

    pub async fn list_regimens(&self, patient: &Patient) -> Result<Vec<StoredRegimen>, StoreError> {
        const SQL: &str = "SELECT r.id, r.patient_id, r.treatment_id, t.name AS treatment_name, t.category, r.dose_amount, r.dose_unit, r.route, r.schedule, r.start_date, r.end_date FROM regimens r JOIN treatments t ON t.id = r.treatment_id WHERE r.patient_id = $1 ORDER BY r.start_date, r.id";
        let rows: Vec<RegimenRow> = on_pool!(self, pool => {
            sqlx::query_as(SQL).bind(patient.id).fetch_all(pool).await.ctx("listing regimens")?
        });
        rows.into_iter()
            .map(|r| {
                Ok(StoredRegimen {
                    value: r.regimen()?,
                    id: r.id,
                    patient_id: r.patient_id,
                    treatment_id: r.treatment_id,
                    treatment_name: r.treatment_name,
                })
            })
            .collect()
    }

    /// Sets or clears a regimen's end date.
    pub async fn set_regimen_end(&self, patient: &Patient, id: Id, end: Option<Date>) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE regimens SET end_date = $3 WHERE patient_id = $1 AND id = $2")
                .bind(patient.id).bind(id).bind(end.map(|d| d.to_string()))
                .execute(pool).await.ctx("ending a regimen")?.rows_affected()
        });
        Ok(n > 0)
    }

    /// Ends regimen `old` on `end` and starts `next` for the same treatment, in one
    /// transaction: a dose change never leaves two running regimens or none. `false` when
    /// the patient has no regimen `old`.
    pub async fn replace_regimen(
        &self,
        patient: &Patient,
        old: Id,
        end: Date,
        next: &Regimen,
    ) -> Result<Option<Id>, StoreError> {
        let begin = self.write_tx_statement();
        const INSERT: &str = "INSERT INTO regimens (patient_id, treatment_id, dose_amount, dose_unit, route, schedule, start_date, end_date) SELECT $1, treatment_id, $3, $4, $5, $6, $7, $8 FROM regimens WHERE id = $2 AND patient_id = $1 RETURNING id";
        let id: Option<i64> = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.ctx("starting a transaction")?;
            let n = sqlx::query("UPDATE regimens SET end_date = $3 WHERE patient_id = $1 AND id = $2")
                .bind(patient.id).bind(old).bind(end.to_string())
                .execute(&mut *tx).await.ctx("ending a regimen")?.rows_affected();
            if n == 0 {
                return Ok(None);
            }
            let id: Option<i64> = sqlx::query_scalar(INSERT)
                .bind(patient.id).bind(old)
                .bind(next.dose().map(|d| d.amount())).bind(next.dose().map(|d| d.unit().code()))
                .bind(next.route().map(|r| r.code())).bind(next.schedule().code())
                .bind(next.start().to_string()).bind(next.end().map(|d| d.to_string()))
                .fetch_optional(&mut *tx).await.ctx("saving a regimen")?;
            tx.commit().await.ctx("committing")?;
            id
        });
        Ok(id)
    }

    // ----- doses -----

    pub async fn insert_dose(&self, patient: &Patient, regimen_id: Id, dose: &DoseLog) -> Result<Id, StoreError> {
        let id: Option<i64> = on_pool!(self, pool => {
            bind_dose!(sqlx::query_scalar(INSERT_DOSE).bind(patient.id), regimen_id, dose)
                .fetch_optional(pool).await.ctx("saving a dose")?
        });
        id.ok_or_else(|| StoreError::Conflict(format!("regimen {regimen_id} does not exist")))
    }

    /// (regimen id, dose) pairs in range, oldest first.
    pub async fn list_doses(
        &self,
        patient: &Patient,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<(Id, Stored<DoseLog>)>, StoreError> {
        let (lo, hi) = bounds(from, to);
        let sql = format!("SELECT {DOSE_LOG_COLUMNS} FROM dose_logs WHERE patient_id = $1 AND local_date >= $2 AND local_date <= $3 ORDER BY at_ms, id");
        let rows: Vec<DoseLogRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(patient.id).bind(&lo).bind(&hi).fetch_all(pool).await.ctx("listing doses")?
        });
        rows.into_iter().map(DoseLogRow::into_domain).collect()
    }

    /// Corrects a logged dose (time, status, note); it stays with its regimen.
    pub async fn update_dose(&self, patient: &Patient, id: Id, dose: &DoseLog) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE dose_logs SET at_ms = $3, time_zone = $4, local_date = $5, status = $6, note = $7 WHERE patient_id = $1 AND id = $2";
        let n = on_pool!(self, pool => {
            sqlx::query(SQL).bind(patient.id).bind(id)
                .bind(dose.at().millis()).bind(dose.at().zone.name().to_string()).bind(dose.at().local_date().to_string())
                .bind(dose.status().code()).bind(dose.note().map(str::to_string))
                .execute(pool).await.ctx("updating a dose")?.rows_affected()
        });
        Ok(n > 0)
    }

    pub async fn delete_dose(&self, patient: &Patient, id: Id) -> Result<bool, StoreError> {
        self.delete_by_id("dose_logs", patient, id).await
    }
}
