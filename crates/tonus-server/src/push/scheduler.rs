//! The reminder sender that runs inside `tonus serve`: every tick it works out, for each
//! subscribed device, the reminders that fell due since `now - GRACE` (pure:
//! `tonus_domain::reminders::due_between`), claims each in the database, and sends the ones
//! it claimed.
//!
//! - **Never twice**: the claim (`push_sent`, unique per device and reminder) is committed
//!   before the POST, so a second tick, a second process or a restarted server finds it
//!   taken. A crash between the claim and the POST loses that one reminder rather than risk
//!   sending it twice.
//! - **None skipped**: each tick looks back over the whole grace window, not just since the
//!   previous tick, so reminders that fell due while the server was down (or a tick ran
//!   late) are sent on the next tick, as long as they are less than `GRACE` old; older ones
//!   are not worth a notification any more and are left.
//! - A failed POST (network, 5xx, 429) gives its claim back and is tried again on later
//!   ticks until the reminder leaves the grace window; 404/410 drop the subscription.
//!
//! Time comes in as an argument to [`Scheduler::tick`], so tests drive it with any clock.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use jiff::civil::Time;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tonus_domain::reminders::{due_between, Choices, Plan, QuietHours, Reminder, ReminderKind};
use tonus_domain::time::local_date;
use tonus_domain::{Patient, Regimen};
use tonus_store::push::PushSubscription;
use tonus_store::Store;

use super::{Outcome, Sender};

/// How late a reminder may still be sent.
pub const GRACE: SignedDuration = SignedDuration::from_secs(3600);
/// Devices sent to at once in a tick.
const CONCURRENT: usize = 16;
/// How often `tonus serve` looks for due reminders.
pub const INTERVAL: Duration = Duration::from_secs(30);
/// Claims are kept this long after their reminder fell due, well past `GRACE`, so that a
/// clock set back by hours still finds them.
const KEEP_CLAIMS: SignedDuration = SignedDuration::from_secs(7 * 24 * 3600);

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    pub sent: usize,
    /// Subscriptions dropped because the push service answered 404 or 410.
    pub dropped: usize,
    /// Sends that failed and will be tried again.
    pub failed: usize,
}

/// The JSON the service worker receives (`sw.js`, `push` event).
#[derive(Serialize)]
struct Payload<'a> {
    title: &'a str,
    body: &'a str,
    /// The notification's tag: the same reminder shown again replaces the first.
    tag: &'a str,
    url: &'a str,
}

pub struct Scheduler {
    store: Arc<Store>,
    sender: Arc<Sender>,
}

/// A patient's records the reminders are made from, read once per tick.
struct Records {
    patient: Patient,
    regimens: Vec<(i64, String, Regimen)>,
    changes: Vec<(jiff::civil::Date, String)>,
    checked_in: Vec<jiff::civil::Date>,
    logged: Vec<(i64, jiff::civil::Date)>,
}

fn time_of(minutes: i64) -> Option<Time> {
    let m = i8::try_from(minutes.rem_euclid(60)).ok()?;
    let h = i8::try_from(minutes.div_euclid(60)).ok()?;
    Time::new(h, m, 0, 0).ok()
}

/// The device's quiet hours, when both ends are set.
pub fn quiet_hours(sub: &PushSubscription) -> Option<QuietHours> {
    Some(QuietHours {
        start: time_of(sub.quiet_start_min?)?,
        end: time_of(sub.quiet_end_min?)?,
    })
}

impl Scheduler {
    pub fn new(store: Arc<Store>, sender: Arc<Sender>) -> Self {
        Self { store, sender }
    }

    /// Sends every reminder due in `(now - GRACE, now]` not sent before. A device whose
    /// records cannot be read is logged and skipped, so one bad record does not silence
    /// everyone else's reminders; it is tried again on the next tick. Devices are served side
    /// by side (up to [`CONCURRENT`]), each its reminders in order, so a push service that
    /// hangs until the timeout holds up only its own devices.
    pub async fn tick(&self, now: Timestamp) -> anyhow::Result<TickReport> {
        let mut report = TickReport::default();
        let subs = self.store.active_push_subscriptions().await?;
        let mut records: HashMap<i64, Option<Records>> = HashMap::new();
        let mut work = Vec::new();
        for sub in subs {
            match self.due(&sub, now, &mut records).await {
                Ok(due) if due.is_empty() => {}
                Ok(due) => work.push((sub, due)),
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!("reminders for push subscription {}: {e:#}; trying again later", sub.id);
                }
            }
        }
        // Made into a Vec first: a stream that maps borrowed items is not `Send` (rustc
        // cannot prove it for every lifetime), and `tonus serve` spawns this.
        let sends: Vec<_> = work.iter().map(|(sub, due)| self.device(sub, due, now)).collect();
        let done: Vec<TickReport> = stream::iter(sends).buffer_unordered(CONCURRENT).collect().await;
        for d in done {
            report.sent += d.sent;
            report.dropped += d.dropped;
            report.failed += d.failed;
        }
        self.store
            .prune_push_claims((now - KEEP_CLAIMS).as_millisecond())
            .await?;
        Ok(report)
    }

    /// One device's reminders due now (its patient's records read once per tick).
    async fn due(
        &self,
        sub: &PushSubscription,
        now: Timestamp,
        records: &mut HashMap<i64, Option<Records>>,
    ) -> anyhow::Result<Vec<Reminder>> {
        if let Entry::Vacant(slot) = records.entry(sub.patient_id) {
            slot.insert(self.records(sub.patient_id, now).await?);
        }
        let Some(Some(r)) = records.get(&sub.patient_id) else {
            return Ok(Vec::new());
        };
        let plan = Plan {
            zone: &r.patient.zone,
            checkin_at: time_of(sub.checkin_min),
            regimens: &r.regimens,
            period_changes: &r.changes,
            choices: Choices::from_bits(sub.kinds),
            quiet: quiet_hours(sub),
            checked_in: &r.checked_in,
            logged: &r.logged,
        };
        Ok(due_between(&plan, now - GRACE, now))
    }

    /// One device's due reminders, in order: each claimed, then sent.
    async fn device(&self, sub: &PushSubscription, due: &[Reminder], now: Timestamp) -> TickReport {
        let mut report = TickReport::default();
        if let Err(e) = self.send_each(sub, due, now, &mut report).await {
            report.failed += 1;
            tracing::warn!("reminders for push subscription {}: {e:#}; trying again later", sub.id);
        }
        report
    }

    async fn send_each(
        &self,
        sub: &PushSubscription,
        due: &[Reminder],
        now: Timestamp,
        report: &mut TickReport,
    ) -> anyhow::Result<()> {
        for reminder in due {
            let at = reminder.due.as_millisecond();
            if !self
                .store
                .claim_push(sub.id, &reminder.key, at, now.as_millisecond())
                .await?
            {
                continue;
            }
            match self.deliver(sub, reminder).await {
                Outcome::Delivered => {
                    report.sent += 1;
                    self.store.push_delivered(sub.id, now.as_millisecond()).await?;
                }
                Outcome::Gone => {
                    report.dropped += 1;
                    self.store.drop_push_subscription(sub.id).await?;
                    return Ok(());
                }
                Outcome::Failed(why) => {
                    report.failed += 1;
                    tracing::warn!("reminder for push subscription {}: {why}; trying again later", sub.id);
                    self.store.release_push(sub.id, &reminder.key).await?;
                    // The service is struggling: leave this device's others for the next tick.
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// What the reminders due at `now` are made from: the regimens and trials, and the
    /// check-ins and doses already logged on the local days the grace window touches (a
    /// reminder of something already done is not sent).
    async fn records(&self, patient_id: i64, now: Timestamp) -> anyhow::Result<Option<Records>> {
        let Some(patient) = self.store.patient_by_id(patient_id).await? else {
            return Ok(None);
        };
        let to = local_date(now, &patient.zone);
        let from = local_date(now - GRACE, &patient.zone).yesterday().unwrap_or(to);
        let checked_in = self
            .store
            .list_checkins(&patient, Some(from), Some(to))
            .await?
            .into_iter()
            .map(|c| c.value.date())
            .collect();
        let logged = self
            .store
            .list_doses(&patient, Some(from), Some(to))
            .await?
            .into_iter()
            .map(|(regimen, d)| (regimen, d.value.at().local_date()))
            .collect();
        let regimens = self
            .store
            .list_regimens(&patient)
            .await?
            .into_iter()
            .map(|r| (r.id, r.treatment_name, r.value))
            .collect();
        let changes = tonus_report::trial_calendar::period_changes(&self.store.list_trials(&patient).await?);
        Ok(Some(Records {
            patient,
            regimens,
            changes,
            checked_in,
            logged,
        }))
    }

    async fn deliver(&self, sub: &PushSubscription, r: &Reminder) -> Outcome {
        let payload = Payload {
            title: &r.title,
            body: &r.body,
            tag: &r.key,
            url: r.url,
        };
        let body = match serde_json::to_vec(&payload) {
            Ok(b) => b,
            Err(e) => return Outcome::Failed(format!("encoding the reminder: {e}")),
        };
        // A dose is time-critical; the check-in and a trial's day can wait for a radio wake-up.
        let urgency = if r.kind == ReminderKind::Dose { "high" } else { "normal" };
        self.sender.send(sub, &body, urgency).await
    }

    /// Ticks every [`INTERVAL`] on the real clock until the task is dropped.
    pub async fn run(self) {
        let mut tick = tokio::time::interval(INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.tick(Timestamp::now()).await {
                Ok(r) if r != TickReport::default() => {
                    tracing::info!(
                        "reminders: {} sent, {} devices gone, {} to retry",
                        r.sent,
                        r.dropped,
                        r.failed
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("sending reminders: {e:#}"),
            }
        }
    }
}
