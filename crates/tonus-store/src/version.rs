//! The per-patient data version (migration 0020): a number that grows with every committed
//! write of anything a dashboard or report reads. Readers key caches by it.

use tonus_domain::Patient;

use crate::connect::{on_pool, Store};
use crate::error::{Context, StoreError};

impl Store {
    /// The patient's data version: one indexed read. It changes (grows) in the transaction of
    /// every insert, update and delete of the patient's records, time zone or identity, so
    /// two equal readings mean no write committed in between. 0 for a patient never written.
    ///
    /// PostgreSQL keeps one counter per backend shard (writers do not wait on each other),
    /// hence the sum; on SQLite there is one shard. The cast keeps PostgreSQL's `SUM` from
    /// widening to `numeric`.
    pub async fn data_version(&self, patient: &Patient) -> Result<u64, StoreError> {
        let v: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM data_versions WHERE patient_id = $1",
            )
            .bind(patient.id)
            .fetch_one(pool)
            .await
            .ctx("reading the patient's data version")?
        });
        Ok(v.unsigned_abs())
    }
}
