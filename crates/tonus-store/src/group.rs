//! Group commit for SQLite: new episodes from every request of this process go to one writer
//! task, which puts whatever is queued into one transaction and one fsync.
//!
//! SQLite has one writer at a time and, with `synchronous=FULL`, one fsync per commit; when
//! every request commits on its own, requests queue for the write lock and the disk's fsync
//! rate is the ceiling. Here a request hands its row to the writer and waits; the writer takes
//! the write lock (`BEGIN IMMEDIATE`), then everything that queued meanwhile, inserts it all,
//! commits, and only then answers each request. So "answered = durable" still holds: an
//! answer means the commit holding the row returned.
//!
//! A row the database refuses (e.g. its patient was deleted meanwhile) fails alone: the batch
//! is rolled back and run again without it. A failed BEGIN or COMMIT fails every request in
//! the batch, and none of its rows is stored (the transaction is rolled back).
//!
//! The writer has a connection of its own, outside the pool, and takes the same database-wide
//! write lock as every other writer, so other processes on the file (`tonus log`, another
//! server) interleave with it as before.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{mpsc, oneshot};
use tonus_domain::{Episode, Id};

use crate::error::{Context, StoreError};
use crate::idempotency::{claim_and_write, IdempotencyKey, KeyedAnswer, RenderAnswer};
use crate::repo::{bind_episode, INSERT_EPISODE};

/// The most rows in one transaction: bounds the time the write lock is held, so readers in
/// other processes and the next batch do not wait behind an unbounded one.
const MAX_BATCH: usize = 512;

/// Requests that may wait for the writer before new ones wait to hand theirs over.
const QUEUE: usize = 4096;

/// What a request asks the writer to do.
enum Work {
    /// Insert a new episode; answered with its id once the batch is committed.
    Episode { patient_id: Id, episode: Episode },
    /// Insert a new episode under an idempotency key (`idempotency`): the key, the episode
    /// and the stored answer join the batch's transaction together; a retry of a key already
    /// stored (committed, or earlier in this batch) gets the stored answer and inserts nothing.
    KeyedEpisode(Box<KeyedEpisode>),
    /// Take one request from a token's allowance (`allowance::take_sql`, bound as there);
    /// answered with whether it was granted, once committed like the rest.
    Allowance {
        sql: Arc<str>,
        token_hash: String,
        capacity: f64,
        now_ms: i64,
        per_ms: f64,
    },
}

/// A keyed episode's parts, boxed: they would make every queued message as large.
struct KeyedEpisode {
    patient_id: Id,
    episode: Episode,
    key: IdempotencyKey,
    render: RenderAnswer,
}

enum Done {
    Id(Id),
    Answer(KeyedAnswer),
    Granted(bool),
}

/// One write, and where its answer goes (`None` once answered).
struct Job {
    work: Work,
    reply: Option<oneshot::Sender<Result<Done, StoreError>>>,
}

impl Job {
    fn answer(&mut self, r: Result<Done, StoreError>, waiting: &AtomicUsize) {
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(r);
            waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

enum Msg {
    Write(Job),
    /// Close the connection (it is opened again if a write comes later) and say when done.
    Close(oneshot::Sender<()>),
}

/// The handle the store keeps: started on the first write, so a store that only reads (or a
/// PostgreSQL one) never has a writer task.
pub(crate) struct GroupCommit {
    options: SqliteConnectOptions,
    sender: Mutex<Option<mpsc::Sender<Msg>>>,
    /// Rows handed over and not yet answered (for tests and metrics).
    waiting: Arc<AtomicUsize>,
}

impl GroupCommit {
    pub(crate) fn new(options: SqliteConnectOptions) -> Self {
        Self {
            options,
            sender: Mutex::new(None),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// The running writer's queue, starting a writer if there is none (first use, or the
    /// runtime that ran the previous one has shut down).
    fn queue(&self) -> mpsc::Sender<Msg> {
        let mut slot = self.sender.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(s) if !s.is_closed() => s.clone(),
            _ => {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(run(self.options.clone(), rx, self.waiting.clone()));
                *slot = Some(tx.clone());
                tx
            }
        }
    }

    /// Inserts an episode in the next group commit; returns its id once that commit returned.
    pub(crate) async fn insert_episode(&self, patient_id: Id, episode: &Episode) -> Result<Id, StoreError> {
        let work = Work::Episode {
            patient_id,
            episode: episode.clone(),
        };
        match self.submit(work).await? {
            Done::Id(id) => Ok(id),
            Done::Granted(_) | Done::Answer(_) => Err(StoreError::Batch(
                "the database writer answered out of turn".to_string(),
            )),
        }
    }

    /// Inserts an episode under an idempotency key in the next group commit; answers once
    /// that commit returned (see `Store::write_once`).
    pub(crate) async fn keyed_episode(
        &self,
        patient_id: Id,
        episode: &Episode,
        key: &IdempotencyKey,
        render: RenderAnswer,
    ) -> Result<KeyedAnswer, StoreError> {
        let work = Work::KeyedEpisode(Box::new(KeyedEpisode {
            patient_id,
            episode: episode.clone(),
            key: key.clone(),
            render,
        }));
        match self.submit(work).await? {
            Done::Answer(a) => Ok(a),
            Done::Id(_) | Done::Granted(_) => Err(StoreError::Batch(
                "the database writer answered out of turn".to_string(),
            )),
        }
    }

    /// Runs the allowance upsert in the writer's transaction; true when a row came back
    /// (granted).
    pub(crate) async fn take_allowance(
        &self,
        sql: Arc<str>,
        token_hash: &str,
        capacity: f64,
        now_ms: i64,
        per_ms: f64,
    ) -> Result<bool, StoreError> {
        let work = Work::Allowance {
            sql,
            token_hash: token_hash.to_string(),
            capacity,
            now_ms,
            per_ms,
        };
        match self.submit(work).await? {
            Done::Granted(g) => Ok(g),
            Done::Id(_) | Done::Answer(_) => Err(StoreError::Batch(
                "the database writer answered out of turn".to_string(),
            )),
        }
    }

    async fn submit(&self, work: Work) -> Result<Done, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            work,
            reply: Some(reply),
        };
        // Counted only once it cannot be lost: a request dropped while waiting for room in
        // the queue hands nothing over.
        let queue = self.queue();
        let permit = queue.reserve().await.map_err(|_| stopped())?;
        self.waiting.fetch_add(1, Ordering::SeqCst);
        permit.send(Msg::Write(job));
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Closes the writer's connection, after the writes queued before this call.
    pub(crate) async fn close(&self) {
        let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(s) = sender {
            let (done, wait) = oneshot::channel();
            if s.send(Msg::Close(done)).await.is_ok() {
                let _ = wait.await;
            }
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Batch("database error while writing: the database writer stopped".to_string())
}

/// The writer: one batch at a time until every handle to the queue is gone.
async fn run(options: SqliteConnectOptions, mut rx: mpsc::Receiver<Msg>, waiting: Arc<AtomicUsize>) {
    let mut conn: Option<SqliteConnection> = None;
    while let Some(msg) = rx.recv().await {
        let first = match msg {
            Msg::Write(job) => job,
            Msg::Close(done) => {
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
                let _ = done.send(());
                continue;
            }
        };
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match options.connect().await.ctx("opening the writer's connection") {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    fail_all(vec![first], &e, &waiting);
                    continue;
                }
            },
        };
        let mut closing = None;
        let (batch, outcome) = write_batch(c, first, &mut rx, &mut closing, &waiting).await;
        match outcome {
            Ok(done) => {
                for (mut job, d) in batch.into_iter().zip(done) {
                    job.answer(Ok(d), &waiting);
                }
            }
            Err(e) => {
                // The connection may be in any state after a failed BEGIN or COMMIT: start
                // the next batch on a fresh one.
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
                fail_all(batch, &e, &waiting);
            }
        }
        if let Some(done) = closing {
            if let Some(c) = conn.take() {
                let _ = c.close().await;
            }
            let _ = done.send(());
        }
    }
}

/// Answers every job of a failed batch (not answered yet) with the same error.
fn fail_all(batch: Vec<Job>, e: &StoreError, waiting: &AtomicUsize) {
    for mut job in batch {
        job.answer(Err(StoreError::Batch(e.to_string())), waiting);
    }
}

/// Takes the write lock, adds the jobs queued by then, and commits them. Jobs the database
/// refuses are answered here and left out; the rest are returned with their results (in
/// order) or the error that stored none of them. A close request met while draining the queue
/// ends the batch and is handed back, to be honoured after the commit.
async fn write_batch(
    c: &mut SqliteConnection,
    first: Job,
    rx: &mut mpsc::Receiver<Msg>,
    closing: &mut Option<oneshot::Sender<()>>,
    waiting: &AtomicUsize,
) -> (Vec<Job>, Result<Vec<Done>, StoreError>) {
    let mut batch = vec![first];
    let mut drained = false;
    loop {
        if let Err(e) = sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *c)
            .await
            .ctx("starting a group commit")
        {
            return (batch, Err(e));
        }
        // Whatever queued while we waited for the lock (or the previous fsync) joins now.
        while !drained && closing.is_none() && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Write(job)) => batch.push(job),
                Ok(Msg::Close(done)) => *closing = Some(done),
                Err(_) => break,
            }
        }
        drained = true;
        let mut done = Vec::with_capacity(batch.len());
        let mut refused = None;
        for (i, job) in batch.iter().enumerate() {
            match execute(c, &job.work).await {
                Ok(d) => done.push(d),
                Err(e) => {
                    refused = Some((i, e));
                    break;
                }
            }
        }
        match refused {
            None => {
                let committed = sqlx::query("COMMIT")
                    .execute(&mut *c)
                    .await
                    .ctx("committing a group commit");
                if let Err(e) = committed {
                    // A failed COMMIT (e.g. a deferred constraint) may leave the transaction
                    // open; roll it back so none of the batch stays.
                    let _ = sqlx::query("ROLLBACK").execute(&mut *c).await;
                    return (batch, Err(e));
                }
                return (batch, Ok(done));
            }
            Some((i, e)) => {
                // Some errors roll back only the statement, others the whole transaction:
                // roll back in any case and write the others again without the refused one.
                let _ = sqlx::query("ROLLBACK").execute(&mut *c).await;
                let mut job = batch.remove(i);
                job.answer(Err(e), waiting);
                if batch.is_empty() {
                    return (batch, Ok(Vec::new()));
                }
            }
        }
    }
}

async fn execute(c: &mut SqliteConnection, work: &Work) -> Result<Done, StoreError> {
    match work {
        Work::Episode { patient_id, episode } => {
            let id: i64 = bind_episode!(sqlx::query_scalar(INSERT_EPISODE).bind(*patient_id), episode)
                .fetch_one(&mut *c)
                .await
                .ctx("saving an episode")?;
            Ok(Done::Id(id))
        }
        Work::KeyedEpisode(k) => {
            let KeyedEpisode {
                patient_id,
                episode,
                key,
                render,
            } = &**k;
            let answer = claim_and_write!(c, *patient_id, key, render, {
                let id: Result<i64, StoreError> =
                    bind_episode!(sqlx::query_scalar(INSERT_EPISODE).bind(*patient_id), episode)
                        .fetch_one(&mut *c)
                        .await
                        .ctx("saving an episode");
                id.map(Some)
            })?;
            Ok(Done::Answer(answer))
        }
        Work::Allowance {
            sql,
            token_hash,
            capacity,
            now_ms,
            per_ms,
        } => {
            let granted: Option<f64> = sqlx::query_scalar(sql)
                .bind(token_hash)
                .bind(*capacity)
                .bind(*now_ms)
                .bind(*per_ms)
                .fetch_optional(&mut *c)
                .await
                .ctx("taking from a token's allowance")?;
            Ok(Done::Granted(granted.is_some()))
        }
    }
}
