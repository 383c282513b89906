use tonus_domain::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error while {context}: {source}")]
    Db {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("could not migrate the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored {table} row {id} is not valid any more: {source}")]
    Corrupt {
        table: &'static str,
        id: i64,
        #[source]
        source: ValidationError,
    },
    #[error("{0}")]
    Conflict(String),
    /// A value that only the database can check (e.g. a name that must refer to one of the
    /// patient's own records): told to the user like any rule the domain checks.
    #[error("{0}")]
    Invalid(ValidationError),
    /// The error of a group commit, told to every request in the batch.
    #[error("{0}")]
    Batch(String),
    #[error("could not open the database at {location}: {reason}")]
    Open { location: String, reason: String },
}

/// Attaches what we were doing to a driver error.
pub(crate) trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Db { context, source })
    }
}
