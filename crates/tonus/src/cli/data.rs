//! Arguments of the commands that plan and analyse trials, move data in and out, report,
//! serve and manage accounts.

use clap::{Args, Subcommand, ValueEnum};

#[derive(Subcommand)]
pub enum TrialCommand {
    /// Plan a trial: `tonus trial plan --name baclofen-vs-none --arm none --arm Baclofen`.
    Plan(PlanArgs),
    /// List trials.
    List,
    /// The calendar of a trial: which arm when, and which days are washout.
    Show {
        /// Trial id or name.
        trial: String,
    },
    /// Analyse a trial (CENT 2015 layout): every outcome, with intervals and a verdict.
    Report {
        /// Trial id or name.
        trial: String,
        /// Add a linear time trend to the models (slow drift over the trial).
        #[arg(long)]
        trend: bool,
    },
    /// Pool every patient's latest trial of one comparison (an operator's view over the whole
    /// database): `tonus trial pooled --arm none --arm Baclofen`. Random-effects model: the
    /// average effect, how much patients differ, each patient's shrunken estimate and the
    /// range expected for a new patient.
    Pooled {
        /// The reference arm, then the compared arm (e.g. `--arm none --arm Baclofen`).
        #[arg(long = "arm", required = true, num_args = 1)]
        arms: Vec<String>,
        /// The primary outcome the trials share.
        #[arg(long, default_value = "involuntary-count")]
        primary: String,
    },
}

#[derive(Args)]
pub struct PlanArgs {
    /// A short name for the trial (not needed with `--dry-run`).
    #[arg(long, required_unless_present = "dry_run")]
    pub name: Option<String>,
    /// An arm: `none` (no treatment), a treatment's name, or treatments taken together joined
    /// by `+` (`--arm "Baclofen + Stretching"`, any order and case); give two or more. The first
    /// is the reference the others are compared with.
    #[arg(long = "arm", required = true)]
    pub arms: Vec<String>,
    /// First day of the baseline run-in (default: tomorrow).
    #[arg(long, allow_hyphen_values = true)]
    pub start: Option<String>,
    /// Run-in days before the first period (baseline for the 30 % rule).
    #[arg(long, default_value_t = 14)]
    pub baseline_days: u32,
    /// Days in each period.
    #[arg(long, default_value_t = 14)]
    pub period_days: u32,
    /// Days at the start of each period left out of the analysis (onset and carry-over).
    #[arg(long, default_value_t = 4)]
    pub washout_days: u32,
    /// Blocks; each block has every arm once, in random order.
    #[arg(long, default_value_t = 3)]
    pub blocks: u32,
    /// Seed of the random order (default: random, and recorded).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Primary outcome: involuntary-count, stiffness-count, episode-pain, spasticity-nrs, pain-nrs, night-wakings.
    #[arg(long, default_value = "involuntary-count")]
    pub primary: String,
    /// Relative fall that counts as meaningful, fixed in advance (0.30 = 30 %).
    #[arg(long, default_value_t = 0.30)]
    pub threshold: f64,
    /// Do not plan: simulate this design from your last 90 days of diary and show how likely
    /// it is to find the threshold, how often it would falsely say "better", and the blocks
    /// needed for 80 % power. Nothing is stored.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Subcommand)]
pub enum AnalyseCommand {
    /// Compare two date ranges (observational, not randomised): `--before 2026-01-01..2026-01-31 --after 2026-03-01..2026-03-31`.
    Compare {
        /// Reference range FROM..TO (dates inclusive).
        #[arg(long, allow_hyphen_values = true)]
        before: String,
        /// Range compared with it, FROM..TO.
        #[arg(long, allow_hyphen_values = true)]
        after: String,
        /// Relative fall that counts as meaningful.
        #[arg(long, default_value_t = 0.30)]
        threshold: f64,
    },
    /// Next-day spasms against exercise load (minutes × exertion); flags sessions above your gentle limit.
    Exercise {
        #[arg(long, allow_hyphen_values = true, default_value = "-180")]
        from: String,
        #[arg(long, allow_hyphen_values = true, default_value = "today")]
        to: String,
        /// Highest exertion (0–10) you consider gentle.
        #[arg(long, default_value_t = 4)]
        gentle_limit: u8,
    },
}

// ----- import, export, backup and restore (interop) -----

#[derive(Subcommand)]
pub enum ExportCommand {
    /// CSV files, one per record type (docs/csv.md): all types into --out-dir, or one
    /// type (--what) to --out or standard output.
    Csv(ExportCsvArgs),
    /// A FHIR R4 Bundle (JSON) of the patient's records, for a clinic's system: a
    /// `collection` to file, a `transaction` to post to a FHIR server, or a `document`, the
    /// International Patient Summary of the diagnosis, treatments and MRI results.
    Fhir {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// `transaction`: each resource created only if the server has none with its
        /// identifier (conditional create), so posting it twice creates nothing twice.
        /// `document`: an IPS document (a Composition and the resources it lists).
        #[arg(long, value_enum, default_value = "collection")]
        bundle: BundleType,
    },
    /// An iCalendar (.ics) file of reminders: scheduled doses, the daily check-in and trial
    /// period changes.
    Ical(ExportIcalArgs),
    /// Everything the patient has recorded, as one Tonus JSON archive (docs/backup.md).
    Archive {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BundleType {
    Collection,
    Transaction,
    /// The International Patient Summary: diagnosis, treatments and MRI results.
    Document,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsvWhat {
    Treatments,
    Episodes,
    Checkins,
    Doses,
    Exercise,
    Events,
    SideEffects,
}

#[derive(Args)]
pub struct ExportCsvArgs {
    /// Only this record type (default: every type, into --out-dir).
    #[arg(long, value_enum)]
    pub what: Option<CsvWhat>,
    /// File for one type (default: standard output).
    #[arg(long, requires = "what", conflicts_with = "out_dir")]
    pub out: Option<std::path::PathBuf>,
    /// Folder for all types: treatments.csv, episodes.csv, checkins.csv, doses.csv,
    /// exercise.csv, events.csv (created if missing; existing files are not overwritten).
    #[arg(long)]
    pub out_dir: Option<std::path::PathBuf>,
    /// For spreadsheets: a UTF-8 byte-order mark (so Excel shows accents and other
    /// non-ASCII letters) and CRLF line ends. `tonus import csv` reads both styles.
    #[arg(long)]
    pub excel: bool,
}

#[derive(Args)]
pub struct ExportIcalArgs {
    /// Output .ics file.
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Local time of the daily check-in reminder.
    #[arg(long, default_value = "20:00")]
    pub checkin_at: String,
    /// Leave out the daily check-in reminder.
    #[arg(long)]
    pub no_checkin: bool,
    /// Another dated milestone to remind of, as DATE=LABEL (repeatable). The periods of
    /// stored trials are always included.
    #[arg(long = "period-change", value_name = "DATE=LABEL")]
    pub period_change: Vec<String>,
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// CSV files (any record type; the header says which). Nothing is written unless every
    /// row is valid, or with --skip-invalid the valid rows are written and the rest listed.
    Csv {
        /// Files to import (treatments before doses is handled for you).
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// Write the valid rows even when some are invalid (all in one transaction).
        #[arg(long)]
        skip_invalid: bool,
    },
    /// A FHIR R4 Bundle (or one resource): Tonus's own export or another system's. Each
    /// Patient in the file decides where its records go: the patient with one of its
    /// identifiers, else the one with its Tonus handle, else a new patient; --map (or
    /// --patient for a one-patient file) chooses explicitly. Every resource is reported as
    /// imported or skipped with the reason.
    Fhir {
        file: std::path::PathBuf,
        /// Show what would be imported, into which patients, and what skipped; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send a Patient of the file to a patient of this database (created if missing):
        /// `--map Patient/f201=roel` (the Patient's `Patient/id` or fullUrl). Repeatable.
        #[arg(long, value_name = "PATIENT=HANDLE")]
        map: Vec<String>,
        /// Time zone of patients the import creates when the file gives none (default: this
        /// machine's).
        #[arg(long)]
        tz: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackupFormat {
    /// An SQLite file on SQLite (whole database), else a JSON archive.
    Auto,
    /// A consistent SQLite copy made with VACUUM INTO (SQLite databases only).
    Sqlite,
    /// The Tonus JSON archive (either backend; all patients or --patient).
    Archive,
}

#[derive(Args)]
pub struct BackupArgs {
    /// Backup file to create (never overwritten).
    #[arg(long)]
    pub out: std::path::PathBuf,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: BackupFormat,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// An SQLite backup or a JSON archive (with --patient, only that patient is restored).
    #[arg(long)]
    pub from: std::path::PathBuf,
    /// Replace patients that exist already (their current records are deleted).
    #[arg(long)]
    pub replace: bool,
    /// Restore patients and their records even when an SQLite backup also holds what
    /// `restore` cannot copy (trials, web accounts, consents, feeds, tokens, audit log);
    /// without it such a restore is refused and lists what would be left behind.
    #[arg(long)]
    pub records_only: bool,
}

#[derive(Args)]
pub struct ReportArgs {
    /// First day (default: 90 days ago).
    #[arg(long, allow_hyphen_values = true, default_value = "-89")]
    pub from: String,
    /// Last day (default: today).
    #[arg(long, allow_hyphen_values = true, default_value = "today")]
    pub to: String,
    /// Where to write the PDF.
    #[arg(long, short, default_value = "tonus-report.pdf")]
    pub out: std::path::PathBuf,
    /// Sections, comma-separated (the summary page is always first): summary, treatments,
    /// counts, scores, regions, night, events, side-effects, exercise, trials. Default: all.
    #[arg(long, value_delimiter = ',')]
    pub sections: Vec<String>,
    /// Include the patient's free-text notes (episodes, check-ins, side effects), newest
    /// first. Left out by default: they are the patient's own words.
    #[arg(long)]
    pub notes: bool,
    /// Also write each chart as an SVG file into this folder.
    #[arg(long)]
    pub svg_dir: Option<std::path::PathBuf>,
    /// Highest exertion (0–10) counted as gentle.
    #[arg(long, default_value_t = 4)]
    pub gentle_limit: u8,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Settings file (TOML; every key is described in tonus.example.toml). Flags win over
    /// TONUS_* environment variables, which win over the file.
    #[arg(long, env = "TONUS_CONFIG", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Address and port to listen on (default 127.0.0.1:8080; env TONUS_LISTEN). Keep the
    /// loopback default behind a TLS reverse proxy: session cookies are Secure, so browsers
    /// send them only over HTTPS or to localhost.
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Let anyone who reaches the server create a patient account at /signup.
    #[arg(long)]
    pub open_registration: bool,
    /// Minutes without activity after which a session ends (default 720).
    #[arg(long)]
    pub idle_minutes: Option<u64>,
    /// Hours after sign-in after which a session ends, however active (default 336).
    #[arg(long)]
    pub max_session_hours: Option<u64>,
    /// Requests one personal access token may make per minute, then 429 with Retry-After
    /// (default 600; env TONUS_API_REQUESTS_PER_MINUTE).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub api_requests_per_minute: Option<u32>,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account: `tonus user add --role admin NAME` (asks for the password).
    Add(UserAddArgs),
    /// List accounts.
    List,
    /// Give a patient account an existing patient record (made by `patient add`, `demo`,
    /// an import or a restore): `tonus user link anne --patient anne`. Audited.
    Link(UserLinkArgs),
}

#[derive(Args)]
pub struct UserLinkArgs {
    /// The patient account's user name.
    pub name: String,
    /// Handle of the existing patient record the account should own.
    #[arg(long, value_name = "HANDLE")]
    pub patient: String,
}

#[derive(Args)]
pub struct UserAddArgs {
    /// patient, clinician or admin. A patient account gets a new, empty patient record
    /// (never one that merely has the same name; see --patient).
    #[arg(long)]
    pub role: String,
    /// User name: a–z, 0–9, '.', '_', '-' (and '@' for clinicians and administrators).
    pub name: String,
    /// Read the password from the first line of standard input (for scripts).
    #[arg(long)]
    pub password_stdin: bool,
    /// Time zone of a new patient (default: this machine's).
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// Give the new patient account this existing patient record instead of a new one.
    #[arg(long, value_name = "HANDLE")]
    pub patient: Option<String>,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exits 1 naming the first row that does not match.
    Verify,
}
