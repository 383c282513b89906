//! Tonus persistence: one repository API over embedded SQLite (the default) and PostgreSQL.
//!
//! Both backends share the SQL text (`$N` placeholders work in both) and the row types; the
//! [`on_pool!`] macro expands each query once per backend so each is type-checked against its
//! own driver. Every row belongs to a patient and every query is scoped by patient id.

mod accounts;
pub mod archive;
mod connect;
mod error;
mod feeds;
mod repo;
mod rows;
mod trials;

pub use accounts::{
    audit_hash, validate_username, ApiToken, AuditEvent, AuditRecord, AuditVerification, Consent, NewSession, Redeemed,
    Role, Session, User, AUDIT_GENESIS,
};
pub use connect::{default_sqlite_path, Store};
pub use error::StoreError;
pub use feeds::CalendarFeed;
pub use repo::{Batch, StoredRegimen, StoredTreatment};
pub use rows::Stored;
pub use trials::StoredTrial;
