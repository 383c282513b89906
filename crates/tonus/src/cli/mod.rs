//! Command-line grammar. Every command has `--help`; every value is checked by the domain
//! rules, not here, so the CLI, the web API and the importers reject the same things.

use clap::{Args, Parser, Subcommand, ValueEnum};

mod data;
pub use data::*;

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
    /// Record a side effect: `tonus side-effect --effect drowsiness --severity moderate --treatment Baclofen`.
    SideEffect(SideEffectArgs),
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
    /// Import records from CSV files or a FHIR R4 bundle (each file at most 1 GiB; a larger
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
    #[arg(long, allow_hyphen_values = true)]
    pub trigger_note: Option<String>,
    /// Free-text note.
    #[arg(long, allow_hyphen_values = true, short)]
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
    #[arg(long, allow_hyphen_values = true)]
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
    #[arg(long, allow_hyphen_values = true)]
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
    #[arg(long, allow_hyphen_values = true, short)]
    pub note: Option<String>,
}

#[derive(Args, Clone, Default)]
pub struct SideEffectArgs {
    /// drowsiness, weakness, dizziness, fatigue, nausea, dry-mouth, headache, confusion, other.
    #[arg(long, short = 'f')]
    pub effect: Option<String>,
    /// What was felt, in your words (needed for `other`).
    #[arg(long, short = 'd', allow_hyphen_values = true)]
    pub description: Option<String>,
    /// mild, moderate or severe.
    #[arg(long, short)]
    pub severity: Option<String>,
    /// The treatment you suspect, by name (one you have added).
    #[arg(long = "treatment", short = 't')]
    pub treatment: Option<String>,
    /// When it was felt (default: now).
    #[arg(long, allow_hyphen_values = true, short)]
    pub at: Option<String>,
    #[arg(long, allow_hyphen_values = true, short)]
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
    SideEffects,
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
    /// Change a side effect; only the fields given change.
    SideEffect {
        id: i64,
        #[command(flatten)]
        fields: SideEffectArgs,
        /// Forget the suspected treatment.
        #[arg(long, conflicts_with = "treatment")]
        clear_treatment: bool,
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
    SideEffect,
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
    /// Show or set the identity printed on reports and put in exports (all optional):
    /// `tonus patient identity anne --name "Anne Martin" --birth-date 1970-03-02 --sex female
    /// --identifier https://fhir.nhs.uk/Id/nhs-number=9434765919`.
    Identity {
        name: String,
        /// The name as the clinic has it.
        #[arg(long = "name")]
        full_name: Option<String>,
        #[arg(long)]
        birth_date: Option<String>,
        /// female, male, other, unknown.
        #[arg(long)]
        sex: Option<String>,
        /// SYSTEM=VALUE, the system a URI (repeat for several; replaces the stored ones).
        #[arg(long)]
        identifier: Vec<String>,
        /// Remove the whole identity.
        #[arg(long, conflicts_with_all = ["full_name", "birth_date", "sex", "identifier"])]
        clear: bool,
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
    /// Do not make the web account `demo` for the patient (scripts that make their own).
    #[arg(long)]
    pub no_account: bool,
}
