//! Tonus persistence: one repository API over embedded SQLite (the default) and PostgreSQL.
//!
//! Both backends share the SQL text (`$N` placeholders work in both) and the row types; the
//! [`on_pool!`] macro expands each query once per backend so each is type-checked against its
//! own driver. Every row belongs to a patient and every query is scoped by patient id.

mod accounts;
pub mod allowance;
pub mod archive;
mod audit;
mod bulk;
mod connect;
mod consent;
mod error;
mod feeds;
mod group;
mod idempotency;
mod identity;
mod import;
pub mod push;
mod regimens;
mod repo;
mod rows;
mod security;
mod side_effects;
mod trials;
mod version;

pub use accounts::{validate_username, ApiToken, NewSession, Role, Session, User};
pub use allowance::Allowance;
pub use audit::{audit_hash, AuditEvent, AuditRecord, AuditVerification, AUDIT_GENESIS};
pub use bulk::BulkWriter;
pub use connect::{default_sqlite_path, Store};
pub use consent::{Consent, Redeemed};
pub use error::StoreError;
pub use feeds::CalendarFeed;
pub use idempotency::{IdempotencyKey, KeyedAnswer, KeyedWrite, RenderAnswer};
pub use import::{ImportOutcome, ImportTarget};
pub use repo::{Batch, StoredRegimen, StoredTreatment};
pub use rows::Stored;
pub use security::{Linked, LoginFailures, TokenScope, TokenUse};
pub use trials::{StoredTrial, TrialPlanRecord};
