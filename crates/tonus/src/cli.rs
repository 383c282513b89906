//! Command-line grammar. Every command has `--help`; every value is checked by the domain
//! rules, not here, so the CLI, the web API and the importers reject the same things.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "tonus",
    version,
    about = "Log MS spasms and cramps, track treatments, and see what helps.",
    long_about = "Tonus logs spasm episodes, daily check-ins, treatments, doses, exercise and clinical \
events for people with multiple sclerosis, and keeps them in an embedded SQLite database \
(default: ~/.local/share/tonus/tonus.db) or PostgreSQL.\n\nQuick start:\n  tonus log spasm --kind twitch --region left-calf --pain 6\n  tonus checkin\n  tonus list\n\nTonus shows data and its uncertainty; it never gives medical advice."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Clone)]
pub struct Global {
    /// Database: a path or sqlite:// URL for SQLite, or postgres://… for PostgreSQL.
    #[arg(long, global = true, env = "TONUS_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Patient to act for, when the database holds several.
    #[arg(long, global = true, env = "TONUS_PATIENT", value_name = "NAME")]
    pub patient: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only what was asked for (no notes on standard error).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Log a spasm episode, or confirm a day without any.
    #[command(subcommand)]
    Log(LogCommand),
    /// Daily check-in: spasticity and pain (0–10), Penn Spasm Frequency Scale, night wakings.
    Checkin(CheckinArgs),
    /// Treatments: add one, start or stop taking it, list them.
    #[command(subcommand)]
    Treatment(TreatmentCommand),
    /// Record a scheduled dose as taken, taken late, or missed.
    Dose(DoseArgs),
    /// Log an exercise session.
    Exercise(ExerciseArgs),
    /// Record a clinical event: MRI, relapse, infection, diagnosis, or another.
    #[command(subcommand)]
    Event(EventCommand),
    /// List records, filtered by date range and kind.
    List(ListArgs),
    /// Daily episode counts per family; days not confirmed show as unknown, not zero.
    Days(DaysArgs),
    /// Change a record by id.
    #[command(subcommand)]
    Edit(EditCommand),
    /// Delete a record by id (asks first on a terminal; --yes in scripts).
    Delete(DeleteArgs),
    /// Patients in this database.
    #[command(subcommand)]
    Patient(PatientCommand),
    /// Fill the database with a realistic simulated patient to explore Tonus.
    Demo(DemoArgs),
    /// Export records: CSV, FHIR R4, iCalendar reminders, or the patient's JSON archive.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Import records from CSV files or a FHIR R4 bundle (each file at most 64 MiB; a larger
    /// one is refused and nothing is written).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Back up the database: an SQLite copy (VACUUM INTO) or a JSON archive.
    Backup(BackupArgs),
    /// Restore patients from a backup (SQLite copy or JSON archive).
    Restore(RestoreArgs),
    /// Clinician report as PDF: summary page, treatments, charts, events, exercise, trials.
    Report(ReportArgs),
    /// Personal (n-of-1) treatment trials: plan one, see its calendar, analyse it.
    #[command(subcommand)]
    Trial(TrialCommand),
    /// Observational analyses outside trials: compare two date ranges; exercise load.
    #[command(subcommand)]
    Analyse(AnalyseCommand),
    /// Run the web application (patients, clinicians, administrators) on this database.
    Serve(ServeArgs),
    /// Accounts of the web application.
    #[command(subcommand)]
    User(UserCommand),
    /// The audit log of the web application.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
pub enum LogCommand {
    /// Log one spasm episode: `tonus log spasm --kind twitch --region left-calf --pain 6`.
    Spasm(SpasmArgs),
    /// Confirm that a day had no (more) episodes: its log is complete.
    None(NoneArgs),
}

#[derive(Args, Clone, Default)]
pub struct SpasmArgs {
    /// twitch, jerk, clonus, flexor-spasm, extensor-spasm (involuntary movement);
    /// cramp, sustained-stiffness (stiffness).
    #[arg(long, short)]
    pub kind: Option<String>,
    /// Body region(s), repeat or comma-separate: left-calf, right-thigh, back, neck, jaw, …
    #[arg(long, short, value_delimiter = ',')]
    pub region: Vec<String>,
    /// Pain 0–10 (0 none, 10 worst imaginable).
    #[arg(long, short)]
    pub pain: Option<i64>,
    /// When it started: "2026-11-20 03:10", "03:10", "yesterday 22:40" (default: now).
    #[arg(long, allow_hyphen_values = true, short)]
    pub at: Option<String>,
    /// How long it lasted: 40s, 2m, 1m30s, or seconds.
    #[arg(long, short)]
    pub duration: Option<String>,
    /// Trigger(s): movement, stretch, waking, heat, cold, infection, full-bladder,
    /// constipation, fatigue, stress, tight-clothing, unknown.
    #[arg(long, short, value_delimiter = ',')]
    pub trigger: Vec<String>,
    /// Free text about the trigger.
    #[arg(long)]
    pub trigger_note: Option<String>,
    /// Free-text note.
    #[arg(long, short)]
    pub note: Option<String>,
}

#[derive(Args)]
pub struct NoneArgs {
    /// The day (default: today): 2026-11-20, today, yesterday, -N.
    #[arg(long, allow_hyphen_values = true, default_value = "today")]
    pub date: String,
}

#[derive(Args)]
pub struct CheckinArgs {
    /// The day (default: today).
    #[arg(long, allow_hyphen_values = true, default_value = "today")]
    pub date: String,
    /// Average spasticity over the last 24 hours, 0–10.
    #[arg(long)]
    pub spasticity: Option<i64>,
    /// Average pain over the last 24 hours, 0–10.
    #[arg(long)]
    pub pain: Option<i64>,
    /// PSFS frequency: 0 none, 1 only when stimulated, 2 <1/hour, 3 >1/hour, 4 >10/hour.
    #[arg(long)]
    pub psfs_frequency: Option<i64>,
    /// PSFS severity (only when frequency > 0): 1 mild, 2 moderate, 3 severe.
    #[arg(long)]
    pub psfs_severity: Option<i64>,
    /// Times spasms woke you last night.
    #[arg(long)]
    pub night_wakings: Option<i64>,
    /// Say the day's episode log is NOT complete (its count stays unknown).
    #[arg(long)]
    pub log_incomplete: bool,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Subcommand)]
pub enum TreatmentCommand {
    /// Add a treatment: `tonus treatment add Baclofen --category drug`.
    Add {
        name: String,
        /// drug, vitamin, supplement, exercise, other.
        #[arg(long, short)]
        category: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Start taking a treatment: `tonus treatment start Baclofen --dose 10 --unit mg --route oral --schedule 3x-daily`.
    Start(StartArgs),
    /// Stop taking a treatment (ends its open regimen).
    Stop {
        name: String,
        /// Last day taken (default: today).
        #[arg(long, allow_hyphen_values = true, default_value = "today")]
        on: String,
    },
    /// List treatments and their regimens.
    List,
}

#[derive(Args)]
pub struct StartArgs {
    pub name: String,
    /// Dose amount (a number; needs --unit).
    #[arg(long)]
    pub dose: Option<f64>,
    /// UCUM unit: mg, ug, g, mL, [IU], {spray}, {tablet} (mcg, iu, ml also accepted).
    #[arg(long)]
    pub unit: Option<String>,
    /// oral, subcutaneous, intramuscular, intravenous, intrathecal, oromucosal, transdermal, topical.
    #[arg(long)]
    pub route: Option<String>,
    /// daily, twice-daily, 3x-daily, every-2-days, every-4-weeks, as-needed.
    #[arg(long, default_value = "daily")]
    pub schedule: String,
    /// First day (default: today).
    #[arg(long, allow_hyphen_values = true, default_value = "today")]
    pub from: String,
    /// Last day, if already known.
    #[arg(long, allow_hyphen_values = true)]
    pub until: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DoseStatusArg {
    Taken,
    Late,
    Missed,
}

#[derive(Args)]
pub struct DoseArgs {
    /// taken, late or missed.
    #[arg(value_enum)]
    pub status: DoseStatusArg,
    /// The treatment's name.
    pub treatment: String,
    /// When (default: now).
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Args, Clone, Default)]
pub struct ExerciseArgs {
    /// yoga, pilates, water, stretching, walking, cycling, strength, other.
    #[arg(long = "type", short = 't')]
    pub exercise_type: Option<String>,
    /// Minutes, 1–600.
    #[arg(long, short)]
    pub minutes: Option<i64>,
    /// Perceived exertion 0–10 (gentle is about 2–4).
    #[arg(long, short)]
    pub exertion: Option<i64>,
    /// When it started (default: now).
    #[arg(long, allow_hyphen_values = true, short)]
    pub at: Option<String>,
    #[arg(long, short)]
    pub note: Option<String>,
}

#[derive(Subcommand)]
pub enum EventCommand {
    /// An MRI: `tonus event mri --region brain --total 12 --new 1 --enhancing 0 --date 2026-09-01`.
    Mri {
        /// brain, cervical-cord, thoracic-cord.
        #[arg(long)]
        region: String,
        #[arg(long)]
        total: Option<i64>,
        #[arg(long)]
        new: Option<i64>,
        #[arg(long)]
        enhancing: Option<i64>,
        #[command(flatten)]
        when: EventWhen,
    },
    /// A relapse (start, and end when known).
    Relapse {
        #[command(flatten)]
        when: EventWhen,
        #[arg(long, allow_hyphen_values = true)]
        until: Option<String>,
    },
    /// An infection.
    Infection {
        #[command(flatten)]
        when: EventWhen,
        #[arg(long, allow_hyphen_values = true)]
        until: Option<String>,
    },
    /// The date of diagnosis.
    Diagnosis {
        #[command(flatten)]
        when: EventWhen,
    },
    /// Anything else worth marking: surgery, pregnancy, a move to a hot climate…
    Other {
        name: String,
        #[command(flatten)]
        when: EventWhen,
        #[arg(long, allow_hyphen_values = true)]
        until: Option<String>,
    },
}

#[derive(Args)]
pub struct EventWhen {
    /// The day (default: today).
    #[arg(long, allow_hyphen_values = true, default_value = "today")]
    pub date: String,
    /// Free-text summary (e.g. the MRI report's conclusion).
    #[arg(long)]
    pub summary: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    Episodes,
    Checkins,
    Treatments,
    Doses,
    Exercise,
    Events,
    All,
}

#[derive(Args)]
pub struct ListArgs {
    /// What to list.
    #[arg(long, value_enum, default_value = "episodes")]
    pub what: What,
    /// First day (2026-11-01, yesterday, -30 …).
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<String>,
    /// Last day.
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Only episodes of this kind or family (twitch, cramp, involuntary-movement, stiffness).
    #[arg(long)]
    pub kind: Option<String>,
}

#[derive(Args)]
pub struct DaysArgs {
    /// First day (default: 13 days ago).
    #[arg(long, allow_hyphen_values = true, default_value = "-13")]
    pub from: String,
    /// Last day (default: today).
    #[arg(long, allow_hyphen_values = true, default_value = "today")]
    pub to: String,
}

#[derive(Subcommand)]
pub enum EditCommand {
    /// Change an episode; only the fields given change.
    Episode {
        id: i64,
        #[command(flatten)]
        fields: SpasmArgs,
        /// Remove the pain rating.
        #[arg(long)]
        clear_pain: bool,
        /// Remove the duration.
        #[arg(long)]
        clear_duration: bool,
    },
    /// Change an exercise session; only the fields given change.
    Exercise {
        id: i64,
        #[command(flatten)]
        fields: ExerciseArgs,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordType {
    Episode,
    Checkin,
    Treatment,
    Dose,
    Exercise,
    Event,
}

#[derive(Args)]
pub struct DeleteArgs {
    #[arg(value_enum)]
    pub record: RecordType,
    pub id: i64,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Subcommand)]
pub enum PatientCommand {
    /// Add a patient: `tonus patient add anne --tz Europe/Paris`.
    Add {
        name: String,
        /// IANA time zone (default: this machine's).
        #[arg(long)]
        tz: Option<String>,
    },
    /// List patients.
    List,
    /// Set a patient's time zone (for new entries and for typing times; each stored record
    /// keeps the zone it was lived in): `tonus patient zone me Europe/Paris`.
    Zone { name: String, tz: String },
    /// Delete a patient and every record they own (asks first on a terminal; --yes in scripts).
    Delete {
        name: String,
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Args)]
pub struct DemoArgs {
    /// Days of history to simulate, ending today.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(7..=3650))]
    pub days: u32,
    /// Random seed: the same seed gives the same patient.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Name of the demo patient.
    #[arg(long, default_value = "demo")]
    pub name: String,
    /// Time zone of the demo patient.
    #[arg(long, default_value = "Europe/London")]
    pub tz: String,
    /// Replace an existing demo patient of the same name.
    #[arg(long)]
    pub replace: bool,
}

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
}

#[derive(Args)]
pub struct PlanArgs {
    /// A short name for the trial.
    #[arg(long)]
    pub name: String,
    /// An arm: `none` (no treatment) or a treatment's name; give two or more. The first is
    /// the reference the others are compared with.
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
    /// A FHIR R4 `collection` Bundle (JSON) of the patient's records, for a clinic's system.
    Fhir {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// An iCalendar (.ics) file of reminders: scheduled doses and the daily check-in.
    Ical(ExportIcalArgs),
    /// Everything the patient has recorded, as one Tonus JSON archive (docs/backup.md).
    Archive {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsvWhat {
    Treatments,
    Episodes,
    Checkins,
    Doses,
    Exercise,
    Events,
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
    /// A trial period change to remind of, as DATE=LABEL (repeatable).
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
    /// A FHIR R4 Bundle as `tonus export fhir` writes it; records are added to the patient.
    Fhir { file: std::path::PathBuf },
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
    /// counts, scores, regions, night, events, exercise, trials. Default: all.
    #[arg(long, value_delimiter = ',')]
    pub sections: Vec<String>,
    /// Also write each chart as an SVG file into this folder.
    #[arg(long)]
    pub svg_dir: Option<std::path::PathBuf>,
    /// Highest exertion (0–10) counted as gentle.
    #[arg(long, default_value_t = 4)]
    pub gentle_limit: u8,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on. Keep the loopback default behind a TLS reverse proxy:
    /// session cookies are Secure, so browsers send them only over HTTPS or to localhost.
    #[arg(long, env = "TONUS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Let anyone who reaches the server create a patient account at /signup.
    #[arg(long)]
    pub open_registration: bool,
    /// Minutes without activity after which a session ends.
    #[arg(long, default_value_t = 720)]
    pub idle_minutes: u64,
    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, default_value_t = 336)]
    pub max_session_hours: u64,
    /// Requests one personal access token may make per minute (then 429 with Retry-After).
    #[arg(long, env = "TONUS_API_REQUESTS_PER_MINUTE", default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..))]
    pub api_requests_per_minute: u32,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account: `tonus user add --role admin NAME` (asks for the password).
    Add(UserAddArgs),
    /// List accounts.
    List,
}

#[derive(Args)]
pub struct UserAddArgs {
    /// patient, clinician or admin. A patient account owns the patient of the same name,
    /// created if missing.
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
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exits 1 naming the first row that does not match.
    Verify,
}
