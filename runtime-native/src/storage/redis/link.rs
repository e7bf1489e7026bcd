//! The connection to Redis, kept alive across Redis restarts: the redis crate's
//! `ConnectionManager` reconnects with backoff; every command is bounded in time; and while
//! Redis is known to be unreachable, commands fail at once (the plugin answers 503 with
//! `retry-after`) instead of each waiting out the bound, while one probe looks for Redis's
//! return. Listings have a connection of their own, so that a large reply never holds up
//! other plugins' commands; a command past the bound while Redis answers others fails alone.

use super::shown::without_password;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, RedisResult, RetryMethod, ServerErrorKind};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use valor_host::kv::Failure;

/// The longest a command may take, waiting for a connection included. Redis answers a healthy
/// command in well under a millisecond, and a scan of a large namespace in tens of them, so
/// 2 s means Redis is down, stuck or cut off (or the reply is very large, see `Link::run_in`);
/// a request waits that long only until the first such failure (the ones after it fail at
/// once).
pub const COMMAND_BOUND: Duration = Duration::from_secs(2);

/// A connection attempt's bound (a refused one fails at once; an unanswered one waits this).
const CONNECT_BOUND: Duration = Duration::from_secs(1);

/// The bound on the check, after a command's time-out, that Redis answers a `PING` on a fresh
/// connection: a healthy Redis answers in a millisecond or so even while it sends another
/// client a large reply (measured: at most 0.15 s during a 1.1 GB one).
const CHECK_BOUND: Duration = Duration::from_millis(300);

/// After Redis answered `READONLY` (a primary demoted to replica), the connections are made
/// anew (a new DNS lookup finds the new primary) at most this often.
const RENEW_READ_ONLY_EVERY: Duration = Duration::from_millis(100);

/// One warning in the log at most this often while Redis stays read-only.
const WARN_READ_ONLY_EVERY: Duration = Duration::from_secs(10);

/// The manager's backoff between connection attempts: 50 ms, doubling, at most 400 ms, each
/// with up to as much again of jitter (so servers sharing a restarted Redis do not all
/// reconnect at once). A short cap keeps recovery within about a second of Redis's return.
/// After its attempts (at most 1.5 s of them) the manager keeps the last error until the next
/// command, the probe's, starts it over.
const BACKOFF_FIRST: Duration = Duration::from_millis(50);
const BACKOFF_CAP: Duration = Duration::from_millis(400);
const RECONNECT_ATTEMPTS: usize = 4;

/// The probe's pauses between its checks while Redis is down: from 100 ms, doubling, at most
/// 400 ms (most of its waiting is for the manager's reconnection, which has its backoff).
const PROBE_PAUSE_FIRST: Duration = Duration::from_millis(100);
const PROBE_PAUSE_CAP: Duration = Duration::from_millis(400);

/// Which connection a command goes on.
#[derive(Clone, Copy)]
pub enum Lane {
    /// Reads, writes and swaps of single keys.
    Commands,
    /// Listings, whose replies can be large.
    Listings,
}

/// Why a command failed, and of which kind.
pub struct Fault {
    /// How it failed, as plugins are told.
    pub failure: Failure,
    /// What went wrong, for the message.
    pub reason: String,
}

/// A handle on the connection; cheap to clone.
#[derive(Clone)]
pub struct Link(Arc<Inner>);

struct Inner {
    client: redis::Client,
    /// The URL without its password, for the log.
    shown: String,
    managers: Mutex<Managers>,
    /// Since when, and why, Redis is unreachable (`None`: it answers).
    down: Mutex<Option<(Instant, String)>>,
    /// When the connections were last made anew for a `READONLY`, and last warned of it.
    read_only: Mutex<(Option<Instant>, Option<Instant>)>,
}

/// One manager per lane.
struct Managers {
    commands: ConnectionManager,
    listings: ConnectionManager,
}

impl Managers {
    fn new(client: &redis::Client) -> RedisResult<Self> {
        Ok(Self {
            commands: manager(client)?,
            listings: manager(client)?,
        })
    }

    fn of(&mut self, lane: Lane) -> &mut ConnectionManager {
        match lane {
            Lane::Commands => &mut self.commands,
            Lane::Listings => &mut self.listings,
        }
    }
}

impl Link {
    /// A connection to the Redis at `url`, made now: an error if Redis cannot be reached.
    pub async fn open(url: &str) -> Result<Self, String> {
        let shown = without_password(url);
        let client = redis::Client::open(url)
            .map_err(|e| format!("the Redis URL {shown} is not valid: {e}"))?;
        let managers = Managers::new(&client).map_err(|e| format!("Redis at {shown}: {e}"))?;
        let link = Self(Arc::new(Inner {
            client,
            shown,
            managers: Mutex::new(managers),
            down: Mutex::new(None),
            read_only: Mutex::new((None, None)),
        }));
        // One attempt, to say at once why Redis cannot be reached (the manager would retry).
        let checked = ping_fresh(&link.0.client, CONNECT_BOUND, COMMAND_BOUND);
        checked.await.map_err(|e| {
            let shown = &link.0.shown;
            if e.kind() == ErrorKind::AuthenticationFailed {
                format!(
                    "Redis at {shown} refused the password (or user) given in --redis / \
                     VALOR_REDIS ({e}): check it (redis://[user]:<password>@host:port/db)"
                )
            } else if e.code() == Some("NOAUTH") {
                format!(
                    "Redis at {shown} asks for a password, and --redis / VALOR_REDIS gives none: \
                     add it (redis://[user]:<password>@host:port/db)"
                )
            } else {
                format!(
                    "connecting to Redis at {shown} failed: {e} (is redis-server running there?)"
                )
            }
        })?;
        Ok(link)
    }

    /// The URL, without its password.
    pub fn shown(&self) -> &str {
        &self.0.shown
    }

    /// Runs `command` on the commands' connection (see `run_in`).
    pub async fn run<T, F>(&self, command: impl FnOnce(ConnectionManager) -> F) -> Result<T, Fault>
    where
        F: Future<Output = RedisResult<T>>,
    {
        self.run_in(Lane::Commands, command).await
    }

    /// Runs `command` on `lane`'s connection within `COMMAND_BOUND`; fails at once if Redis is
    /// known to be unreachable. A failure to reach Redis marks it unreachable and starts the
    /// probe; but a command past the bound while Redis answers a `PING` on a fresh connection
    /// (its reply is large, or the link slow) fails alone, and its lane gets a new connection
    /// so that later commands do not wait behind that reply.
    pub async fn run_in<T, F>(
        &self,
        lane: Lane,
        command: impl FnOnce(ConnectionManager) -> F,
    ) -> Result<T, Fault>
    where
        F: Future<Output = RedisResult<T>>,
    {
        if let Some((since, reason)) = self.0.down.lock().expect("not poisoned").clone() {
            return Err(Fault {
                failure: Failure::Unavailable,
                reason: format!(
                    "Redis has been unreachable for {:.1} s ({reason}); reconnecting",
                    since.elapsed().as_secs_f32()
                ),
            });
        }
        let connection = self.connection(lane);
        let reason = match tokio::time::timeout(COMMAND_BOUND, command(connection)).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) if error.code() == Some("OOM") => {
                return Err(Fault {
                    failure: Failure::Full,
                    reason: format!(
                        "Redis is out of memory (its maxmemory, with no eviction): {error}"
                    ),
                });
            }
            Ok(Err(error)) if error.kind() == ErrorKind::Server(ServerErrorKind::ReadOnly) => {
                self.renew_after_read_only(&error);
                return Err(Fault {
                    failure: Failure::Unavailable,
                    reason: format!(
                        "Redis at {} is a read-only replica now (failed over?); reconnecting",
                        self.0.shown
                    ),
                });
            }
            Ok(Err(error)) if !unreachable(&error) => {
                return Err(Fault {
                    failure: Failure::Other,
                    reason: error.to_string(),
                });
            }
            Ok(Err(error)) if !error.is_timeout() => error.to_string(),
            // The connection's bound on an answer, or this one on the whole command.
            Ok(Err(_)) | Err(_) => {
                if self.answers_others().await {
                    self.renew(lane);
                    return Err(Fault {
                        failure: Failure::Unavailable,
                        reason: format!(
                            "no answer within {} s, while Redis answers others: a very large \
                             reply (a listing of a very large namespace?) or a slow link",
                            COMMAND_BOUND.as_secs()
                        ),
                    });
                }
                format!("no answer within {} s", COMMAND_BOUND.as_secs())
            }
        };
        self.mark_down(&reason);
        Err(Fault {
            failure: Failure::Unavailable,
            reason: format!("Redis is unreachable ({reason}); reconnecting"),
        })
    }

    fn connection(&self, lane: Lane) -> ConnectionManager {
        self.0
            .managers
            .lock()
            .expect("not poisoned")
            .of(lane)
            .clone()
    }

    /// Gives `lane` a new connection (made on its next command); commands under way keep the
    /// old one until they end.
    fn renew(&self, lane: Lane) {
        match manager(&self.0.client) {
            Ok(fresh) => *self.0.managers.lock().expect("not poisoned").of(lane) = fresh,
            Err(e) => tracing::error!("Redis at {}: {e}", self.0.shown),
        }
    }

    /// Whether Redis answers a `PING` on a fresh connection within `CHECK_BOUND`.
    async fn answers_others(&self) -> bool {
        let check = ping_fresh(&self.0.client, CHECK_BOUND, CHECK_BOUND);
        matches!(tokio::time::timeout(CHECK_BOUND, check).await, Ok(Ok(())))
    }

    /// After a `READONLY`: new connections for both lanes (at most every
    /// `RENEW_READ_ONLY_EVERY`), so that a failover behind a DNS name or a virtual IP is
    /// followed; Redis does not close its clients' connections when it is demoted.
    fn renew_after_read_only(&self, error: &RedisError) {
        let now = Instant::now();
        let mut read_only = self.0.read_only.lock().expect("not poisoned");
        let (renewed, warned) = &mut *read_only;
        if renewed.is_some_and(|at| now - at < RENEW_READ_ONLY_EVERY) {
            return;
        }
        *renewed = Some(now);
        if warned.is_none_or(|at| now - at >= WARN_READ_ONLY_EVERY) {
            *warned = Some(now);
            tracing::warn!(
                "Redis at {} refuses writes as a read-only replica ({error}); reconnecting \
                 (writes answer 503 until it is a primary again)",
                self.0.shown
            );
        }
        drop(read_only);
        self.renew(Lane::Commands);
        self.renew(Lane::Listings);
    }

    /// Marks Redis unreachable and, if it was not already, starts the probe.
    fn mark_down(&self, reason: &str) {
        let mut down = self.0.down.lock().expect("not poisoned");
        if down.is_none() {
            tracing::warn!("Redis at {} is unreachable: {reason}", self.0.shown);
            *down = Some((Instant::now(), reason.to_owned()));
            tokio::spawn(self.clone().probe());
        }
    }

    /// PINGs until Redis answers, then lets commands through again (at once if only the
    /// connection was lost: the manager's first attempt at a new one is immediate). The manager reconnects
    /// (with its backoff) when a PING finds the connection broken, and starts over when a
    /// command finds its attempts used up; but it keeps for good a connection that failed
    /// otherwise than by I/O (a password refused while setting it up: measured, it never
    /// tried again) and one that no longer answers (the other end gone without a word): for
    /// those, a fresh manager.
    async fn probe(self) {
        let mut pause = PROBE_PAUSE_FIRST;
        'checks: loop {
            for lane in [Lane::Commands, Lane::Listings] {
                // Longer than the connection's own bound on an answer, so that a connection
                // that no longer answers says so (a timeout error) rather than this bound
                // ending first.
                let ping = tokio::time::timeout(
                    COMMAND_BOUND + CONNECT_BOUND,
                    ping(self.connection(lane)),
                );
                let renew = match ping.await {
                    Ok(Ok(())) => continue,
                    Ok(Err(error)) => !error.is_io_error() || error.is_timeout(),
                    // Still waiting for the manager's reconnection, which has its own bounds.
                    Err(_) => false,
                };
                if renew {
                    self.renew(lane);
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(PROBE_PAUSE_CAP);
                continue 'checks;
            }
            break;
        }
        let down = self.0.down.lock().expect("not poisoned").take();
        if let Some((since, _)) = down {
            tracing::info!(
                "Redis at {} answers again, after {:.1} s",
                self.0.shown,
                since.elapsed().as_secs_f32()
            );
        }
    }
}

/// A `PING` on a connection of its own, made now, within the bounds given (not the managers':
/// it says whether Redis itself answers, whatever their connections wait for).
async fn ping_fresh(
    client: &redis::Client,
    connect: Duration,
    response: Duration,
) -> RedisResult<()> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect))
        .set_response_timeout(Some(response));
    let mut fresh = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    redis::cmd("PING").query_async(&mut fresh).await
}

async fn ping(mut connection: ConnectionManager) -> RedisResult<()> {
    redis::cmd("PING").query_async(&mut connection).await
}

/// A manager that connects on its first command (so a probe's fresh one costs nothing until
/// used).
fn manager(client: &redis::Client) -> RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_min_delay(BACKOFF_FIRST)
        .set_max_delay(BACKOFF_CAP)
        .set_exponent_base(2.0)
        .set_number_of_retries(RECONNECT_ATTEMPTS)
        .set_connection_timeout(Some(CONNECT_BOUND))
        .set_response_timeout(Some(COMMAND_BOUND));
    ConnectionManager::new_lazy_with_config(client.clone(), config)
}

/// Whether `error` says Redis could not be reached, or a connection could not be set up (the
/// password refused, say, by a Redis restarted without it), or Redis cannot serve for now
/// (still loading its data, a replica whose master is down), rather than refusing the command.
fn unreachable(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || matches!(
            error.retry_method(),
            RetryMethod::WaitAndRetry | RetryMethod::Reconnect
        )
}
