//! What `exec --server` and `--ec2-server` serve: the profile's credentials (and roles'
//! assumed with them), renewed in the background **before** they enter the `AWS_MIN_TTL`
//! window, so no request waits on STS.
//!
//! aws-vault's server renews only after expiry, so a request just before it gets credentials
//! that die in flight (its issues #739, #331). Here a renewal thread wakes a little before the
//! window (`AWS_MIN_TTL`, default 5m; half the life of credentials shorter-lived than that) and
//! fetches new credentials. When it fails (STS down, a network outage), the held credentials
//! are served for as long as they are valid, the failure is logged under `--debug`, and the
//! renewal is tried again with back-off; a request that finds the credentials already inside
//! the window asks for an attempt at once and waits a moment for it, so the first request after
//! STS returns gets new credentials. Only credentials that have expired, or none at all, are
//! fetched on the request itself, and a failure then is a 500 (issue 16).
//!
//! The renewal thread never asks anyone anything: it fetches as the prompt hook does, without a
//! terminal. When a renewal needs the user (an MFA code with no cached session, an IAM Identity
//! Center sign-in), the held credentials are served until they expire; the request that then
//! finds them expired fetches as `--lazy`'s first request does, and may prompt.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

use super::credentials::{Fetch, fetch_quietly};
use super::refresh::{Outcome, outcome_of};
use crate::cli::{CredentialArgs, GlobalArgs};
use crate::config::ProfileConfig;
use crate::creds::account::{account_id, arn_account};
use crate::creds::{self, Credentials};
use crate::ctx::Ctx;
use crate::server::{CredentialSource, Issued};

/// How long a request whose credentials are inside the window waits for the renewal it asks
/// for: short enough for SDKs' own timeouts (the JS SDK gives the endpoint 1 s), long enough
/// for STS to answer.
const RENEWAL_WAIT: Duration = Duration::from_millis(300);
/// Each STS call of a background renewal is one attempt over within this time: a hung STS
/// must not stop the renewals, and the back-off below does the retrying.
const RENEWAL_DEADLINE: Duration = Duration::from_secs(10);
/// The longest pause between failed renewals.
const MAX_BACKOFF: Duration = Duration::from_mins(1);
/// The most a renewal starts ahead of the window.
const MAX_LEAD: Duration = Duration::from_mins(1);

pub(super) struct Served {
    shared: Arc<Shared>,
}

struct Shared {
    profile: String,
    args: CredentialArgs,
    /// Whether a fetch has used `--mfa-token`'s one-time code.
    mfa_token_spent: AtomicBool,
    global: GlobalArgs,
    /// For fetches on a request: as the first fetch, it may prompt.
    ctx: Ctx,
    /// For renewals in the background: never prompts.
    background: Ctx,
    min_ttl: Duration,
    state: Mutex<State>,
    /// Rung when a renewal attempt ends, and to wake the renewal thread.
    changed: Condvar,
    /// One fetch at a time, so a prompt is never asked twice at once and STS once.
    fetching: Mutex<()>,
    /// Told how each renewal of the profile's credentials ended (the agent's needs-you mark).
    observer: OnceLock<Observer>,
    /// No longer served: the renewal thread ends.
    retired: AtomicBool,
    /// How many times credentials fetched elsewhere were handed in (`hold`).
    holds: AtomicU64,
}

/// The profile's credentials [`Served`] holds.
pub(super) enum Holding {
    /// None, or only expired ones.
    Nothing,
    Expires(OffsetDateTime),
    /// Long-term keys.
    Forever,
}

impl Holding {
    /// When the held credentials expire, if any are held and they expire.
    pub(super) fn expires(&self) -> Option<OffsetDateTime> {
        match self {
            Self::Expires(at) => Some(*at),
            Self::Nothing | Self::Forever => None,
        }
    }
}

/// What [`Served::observe`] calls after each renewal of the profile's credentials.
pub(super) type Observer = Box<dyn Fn(&Outcome) + Send + Sync>;

#[derive(Default)]
struct State {
    /// The profile's credentials, with the profile's settings they came with.
    profile: Option<(Entry, ProfileConfig)>,
    roles: HashMap<String, Entry>,
    renewing: bool,
    /// A request found credentials inside the window: renew them now, back-off or not.
    nudged: bool,
    /// Renewal attempts ended, for the requests that wait for one.
    attempts: u64,
}

#[derive(Clone, PartialEq, Eq)]
enum Key {
    Profile,
    Role(String),
}

struct Entry {
    held: Held,
    /// Failed renewals in a row, and when to try again.
    failures: u32,
    retry_at: Option<OffsetDateTime>,
}

struct Held {
    creds: Credentials,
    fetched_at: OffsetDateTime,
    account_id: Option<String>,
}

impl Held {
    /// The window: the time before expiry within which these are renewed.
    fn window(&self, min_ttl: Duration) -> Option<time::Duration> {
        let expires = self.creds.expiration?;
        let lifetime = (expires - self.fetched_at).max(time::Duration::ZERO);
        let min_ttl = time::Duration::try_from(min_ttl).unwrap_or(time::Duration::MAX);
        Some(if lifetime > min_ttl {
            min_ttl
        } else {
            lifetime / 2
        })
    }

    /// When the renewal thread renews these: a tenth of their fresh time (at most a minute)
    /// before the window, so a renewal that takes a while still ends before it.
    fn renew_at(&self, min_ttl: Duration) -> Option<OffsetDateTime> {
        let expires = self.creds.expiration?;
        let window_starts = expires - self.window(min_ttl)?;
        let fresh = (window_starts - self.fetched_at).max(time::Duration::ZERO);
        let cap = time::Duration::try_from(MAX_LEAD).unwrap_or(time::Duration::MINUTE);
        let lead = (fresh / 10_i32).min(cap);
        Some(window_starts - lead)
    }

    /// Whether these are inside the window at `now`: renewed late.
    fn in_window(&self, now: OffsetDateTime, min_ttl: Duration) -> bool {
        match (self.creds.expiration, self.window(min_ttl)) {
            (Some(expires), Some(window)) => expires - now <= window,
            _ => false,
        }
    }

    fn valid(&self, now: OffsetDateTime) -> bool {
        self.creds.expiration.is_none_or(|expires| expires > now)
    }

    fn issued(&self) -> Issued {
        Issued {
            creds: self.creds.clone(),
            account_id: self.account_id.clone(),
        }
    }
}

impl Entry {
    fn new(creds: Credentials, account_id: Option<String>, now: OffsetDateTime) -> Self {
        Self {
            held: Held {
                creds,
                fetched_at: now,
                account_id,
            },
            failures: 0,
            retry_at: None,
        }
    }

    /// Whether the renewal thread should renew this now (`nudged`: a request asked).
    fn due(&self, now: OffsetDateTime, min_ttl: Duration, nudged: bool) -> bool {
        let Some(renew_at) = self.held.renew_at(min_ttl) else {
            return false;
        };
        now >= renew_at
            && (self.retry_at.is_none_or(|at| now >= at)
                || (nudged && self.held.in_window(now, min_ttl)))
    }

    /// When this next needs the renewal thread, if ever.
    fn wake_at(&self, now: OffsetDateTime, min_ttl: Duration) -> Option<OffsetDateTime> {
        let renew_at = self.held.renew_at(min_ttl)?;
        Some(if now < renew_at {
            renew_at
        } else {
            self.retry_at.unwrap_or(now)
        })
    }
}

/// The pause after `failures` failed renewals in a row: 1 s, doubling, at most a minute.
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(6);
    Duration::from_secs(1u64 << doublings).min(MAX_BACKOFF)
}

impl State {
    fn entry(&self, key: &Key) -> Option<&Entry> {
        match key {
            Key::Profile => self.profile.as_ref().map(|(entry, _)| entry),
            Key::Role(arn) => self.roles.get(arn),
        }
    }

    fn entry_mut(&mut self, key: &Key) -> Option<&mut Entry> {
        match key {
            Key::Profile => self.profile.as_mut().map(|(entry, _)| entry),
            Key::Role(arn) => self.roles.get_mut(arn),
        }
    }

    fn entries(&self) -> impl Iterator<Item = (Key, &Entry)> {
        let profile = self.profile.iter().map(|(entry, _)| (Key::Profile, entry));
        let roles = self
            .roles
            .iter()
            .map(|(arn, entry)| (Key::Role(arn.clone()), entry));
        profile.chain(roles)
    }

    /// The profile's credentials and settings, while valid.
    fn valid_profile(&self, now: OffsetDateTime) -> Option<(Credentials, ProfileConfig)> {
        self.profile
            .as_ref()
            .filter(|(entry, _)| entry.held.valid(now))
            .map(|(entry, config)| (entry.held.creds.clone(), config.clone()))
    }
}

impl Served {
    pub(super) fn new(profile: String, args: CredentialArgs, global: GlobalArgs, ctx: Ctx) -> Self {
        let min_ttl = creds::min_ttl(&ctx.env);
        // The command shares vault's stderr: no "waiting" line or spinner over its output
        // (the prefetch, before it starts, may say so).
        let ctx = Ctx {
            show_waits: false,
            ..ctx
        };
        let mut background = ctx.clone();
        background.interactive = false;
        Self {
            shared: Arc::new(Shared {
                profile,
                args,
                global,
                ctx,
                background,
                min_ttl,
                state: Mutex::new(State::default()),
                mfa_token_spent: AtomicBool::new(false),
                changed: Condvar::new(),
                fetching: Mutex::new(()),
                observer: OnceLock::new(),
                retired: AtomicBool::new(false),
                holds: AtomicU64::new(0),
            }),
        }
    }

    /// Holds credentials fetched elsewhere (by the `use --agent` that met the prompt) as if
    /// this had fetched them, and renews them from now on.
    pub(super) fn hold(
        &self,
        creds: Credentials,
        account_id: Option<String>,
        config: ProfileConfig,
    ) {
        let shared = &self.shared;
        let entry = Entry::new(creds, account_id, shared.now());
        let mut state = shared.lock();
        state.profile = Some((entry, config));
        shared.holds.fetch_add(1, Ordering::Relaxed);
        drop(state);
        // An MFA code the holder used is spent.
        shared.mfa_token_spent.store(true, Ordering::Relaxed);
        shared.changed.notify_all();
        shared.start_renewing();
    }

    /// What is held for the profile now.
    pub(super) fn holding(&self) -> Holding {
        let state = self.shared.lock();
        match state.profile.as_ref() {
            Some((entry, _)) if entry.held.valid(self.shared.now()) => entry
                .held
                .creds
                .expiration
                .map_or(Holding::Forever, Holding::Expires),
            _ => Holding::Nothing,
        }
    }

    /// Calls `observer` after each renewal of the profile's credentials (set once).
    pub(super) fn observe(&self, observer: Observer) {
        let _ = self.shared.observer.set(observer);
    }

    /// Stops renewing: nothing is served from this any more.
    pub(super) fn retire(&self) {
        self.shared.retired.store(true, Ordering::Relaxed);
        let _state = self.shared.lock();
        self.shared.changed.notify_all();
    }

    /// Fetches the profile's credentials now, so that prompts and errors come before the
    /// command starts.
    pub(super) fn prefetch(&self) -> Result<(), crate::Error> {
        let _one = lock(&self.shared.fetching);
        let before_the_command = Ctx {
            show_waits: true,
            ..self.shared.ctx.clone()
        };
        self.shared
            .fetch_and_hold(&Key::Profile, &before_the_command)
            .map(drop)
    }

    /// What a request gets for `key`: the held credentials while they are valid, after a
    /// moment's wait for a renewal when they are inside the window; else a fetch now.
    fn issue(&self, key: &Key) -> Result<Issued, crate::Error> {
        let shared = &self.shared;
        let mut state = shared.lock();
        let now = shared.now();
        if let Some(entry) = state.entry(key)
            && entry.held.valid(now)
        {
            if !entry.held.in_window(now, shared.min_ttl) {
                return Ok(entry.held.issued());
            }
            let before = state.attempts;
            state.nudged = true;
            shared.changed.notify_all();
            state = shared
                .changed
                .wait_timeout_while(state, RENEWAL_WAIT, |s| s.attempts == before)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            if let Some(entry) = state.entry(key)
                && entry.held.valid(shared.now())
            {
                return Ok(entry.held.issued());
            }
        }
        drop(state);
        let _one = lock(&shared.fetching);
        // Another request may have fetched them while this one waited.
        if let Some(entry) = shared.lock().entry(key)
            && entry.held.valid(shared.now())
        {
            return Ok(entry.held.issued());
        }
        shared.fetch_and_hold(key, &shared.ctx)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn now(&self) -> OffsetDateTime {
        self.ctx.clock.now()
    }

    /// Fetches `key`'s credentials with `ctx` and holds them; the caller holds `fetching`.
    fn fetch_and_hold(self: &Arc<Self>, key: &Key, ctx: &Ctx) -> Result<Issued, crate::Error> {
        let wanted = self.lock().entry(key).and_then(|entry| {
            let renew_at = entry.held.renew_at(self.min_ttl)?;
            Duration::try_from(entry.held.creds.expiration? - renew_at).ok()
        });
        // A cached session with only the window left would be handed straight back: ask for
        // one with more than the window (and the lead) to spare.
        let wanted = wanted
            .unwrap_or(self.min_ttl)
            .saturating_add(Duration::from_secs(1));
        let background = !ctx.interactive;
        let issued = match key {
            Key::Profile => {
                let (entry, config) = self.fetch_profile(ctx, wanted, background)?;
                let issued = entry.held.issued();
                self.lock().profile = Some((entry, config));
                issued
            }
            Key::Role(arn) => {
                let entry = self.fetch_role(arn, ctx, background)?;
                let issued = entry.held.issued();
                self.lock().roles.insert(arn.clone(), entry);
                issued
            }
        };
        self.start_renewing();
        Ok(issued)
    }

    /// The flags of `exec`, without `--mfa-token` once a fetch has used it.
    fn args(&self) -> CredentialArgs {
        let mut args = self.args.clone();
        if self.mfa_token_spent.load(Ordering::Relaxed) {
            args.mfa_token = None;
        }
        args
    }

    fn fetch_profile(
        &self,
        ctx: &Ctx,
        wanted: Duration,
        background: bool,
    ) -> Result<(Entry, ProfileConfig), crate::Error> {
        let (creds, chain) = fetch_quietly(
            &self.profile,
            &self.args(),
            Fetch {
                min_ttl: Some(wanted),
                deadline: background.then_some(RENEWAL_DEADLINE),
                ..Fetch::default()
            },
            &self.global,
            ctx,
        )?;
        // An MFA code works once: renewals never send `--mfa-token`'s again.
        self.mfa_token_spent.store(true, Ordering::Relaxed);
        log::debug!(
            "credential server: new credentials for {}, valid until {:?}",
            self.profile,
            creds.expiration
        );
        let entry = Entry::new(creds, account_id(&chain), self.now());
        Ok((entry, chain.target().clone()))
    }

    /// A role assumed with the profile's credentials (fetched first when they have expired).
    fn fetch_role(
        self: &Arc<Self>,
        role_arn: &str,
        ctx: &Ctx,
        background: bool,
    ) -> Result<Entry, crate::Error> {
        let held = self.lock().valid_profile(self.now());
        let (source, profile) = if let Some(held) = held {
            held
        } else {
            let (entry, config) = self.fetch_profile(ctx, self.min_ttl, background)?;
            let source = entry.held.creds.clone();
            self.lock().profile = Some((entry, config.clone()));
            (source, config)
        };
        let services = super::services::services(ctx, background.then_some(RENEWAL_DEADLINE));
        let creds = creds::assume_role_with(&source, &profile, role_arn, &services, &ctx.env)?;
        log::debug!(
            "credential server: new credentials for role {role_arn}, valid until {:?}",
            creds.expiration
        );
        Ok(Entry::new(creds, arn_account(role_arn), self.now()))
    }

    /// Starts the renewal thread, once there is something to renew.
    fn start_renewing(self: &Arc<Self>) {
        let mut state = self.lock();
        if state.renewing {
            return;
        }
        let shared = Arc::clone(self);
        // Started from the server's thread or one of its connections', so it inherits their
        // blocked signals: the command's, never ours.
        let started = std::thread::Builder::new()
            .name("vault-renew".to_owned())
            .spawn(move || shared.renew_forever());
        match started {
            Ok(_) => state.renewing = true,
            Err(e) => log::debug!("credential server: cannot start renewing: {e}"),
        }
    }

    fn renew_forever(self: Arc<Self>) {
        let mut state = self.lock();
        loop {
            if self.retired.load(Ordering::Relaxed) {
                return;
            }
            let now = self.now();
            let nudged = std::mem::take(&mut state.nudged);
            let due: Vec<Key> = state
                .entries()
                .filter(|(_, entry)| entry.due(now, self.min_ttl, nudged))
                .map(|(key, _)| key)
                .collect();
            if due.is_empty() {
                let wake = state
                    .entries()
                    .filter_map(|(_, entry)| entry.wake_at(now, self.min_ttl))
                    .min();
                state = match wake {
                    Some(at) => {
                        let pause = Duration::try_from(at - now).unwrap_or_default();
                        self.changed
                            .wait_timeout(state, pause.max(Duration::from_millis(10)))
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                    None => self
                        .changed
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner),
                };
                continue;
            }
            drop(state);
            // The profile first: roles are assumed with its credentials.
            for key in due {
                self.renew(&key);
            }
            state = self.lock();
        }
    }

    /// One renewal attempt for `key`, without a prompt; a failure keeps the held credentials.
    fn renew(self: &Arc<Self>, key: &Key) {
        let _one = lock(&self.fetching);
        let held_before = self.holds.load(Ordering::Relaxed);
        let result = self.fetch_and_hold(key, &self.background);
        let mut state = self.lock();
        // Credentials handed in while this renewal ran (`vault refresh`) are newer than its
        // outcome: a failure of this attempt says nothing about them.
        if self.holds.load(Ordering::Relaxed) != held_before || self.retired.load(Ordering::Relaxed)
        {
            state.attempts += 1;
            self.changed.notify_all();
            return;
        }
        let now = self.now();
        // Credentials that are due again at once (a credential_process that hands out what it
        // has until it expires) count as a failure: the thread backs off instead of spinning.
        let result = result.and_then(|_| match state.entry_mut(key) {
            Some(entry)
                if entry
                    .held
                    .renew_at(self.min_ttl)
                    .is_some_and(|at| at <= now) =>
            {
                Err(crate::Error::Message(
                    "the new credentials are already due for renewal".to_owned(),
                ))
            }
            _ => Ok(()),
        });
        if *key == Key::Profile
            && let Some(observer) = self.observer.get()
        {
            observer(&match &result {
                Ok(()) => Outcome::Done,
                Err(e) => outcome_of(e, "STS"),
            });
        }
        if let Err(e) = result
            && let Some(entry) = state.entry_mut(key)
        {
            entry.failures += 1;
            let pause = backoff(entry.failures);
            entry.retry_at = Some(self.now() + pause);
            let what = match key {
                Key::Profile => format!("profile {}", self.profile),
                Key::Role(arn) => format!("role {arn}"),
            };
            log::debug!(
                "credential server: could not renew the credentials of {what} ({e}); serving \
                 the held ones, valid until {:?}, and trying again in {}s",
                entry.held.creds.expiration,
                pause.as_secs()
            );
        }
        state.attempts += 1;
        self.changed.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CredentialSource for Served {
    fn profile_credentials(&self) -> Result<Issued, String> {
        self.issue(&Key::Profile).map_err(|e| e.to_string())
    }

    fn role_credentials(&self, role_arn: &str) -> Result<Issued, String> {
        self.issue(&Key::Role(role_arn.to_owned()))
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn held(fetched: i64, expires: i64) -> Entry {
        Entry::new(
            Credentials {
                access_key_id: "ASIA".to_owned(),
                secret_access_key: Secret::new("s".to_owned()),
                session_token: None,
                expiration: Some(at(expires)),
            },
            None,
            at(fetched),
        )
    }

    fn at(t: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(t).unwrap()
    }

    const FIVE_MINUTES: Duration = Duration::from_mins(5);

    #[test]
    fn credentials_are_renewed_a_little_before_the_min_ttl_window() {
        // One hour with a 5-minute window: 55 fresh minutes, renewed a minute before the
        // window (a tenth of 55 minutes is more than the one-minute cap).
        let one_hour = held(0, 3600);
        assert_eq!(one_hour.held.renew_at(FIVE_MINUTES), Some(at(3240)));
        assert!(!one_hour.due(at(3239), FIVE_MINUTES, false));
        assert!(one_hour.due(at(3240), FIVE_MINUTES, false));
        assert!(!one_hour.held.in_window(at(3299), FIVE_MINUTES));
        assert!(one_hour.held.in_window(at(3300), FIVE_MINUTES));
        assert!(one_hour.held.valid(at(3599)));
        assert!(!one_hour.held.valid(at(3600)));
    }

    #[test]
    fn credentials_shorter_lived_than_the_window_are_renewed_before_half_their_life() {
        // 4 minutes of life with a 5-minute window: the window is the last 2 minutes.
        let short = held(0, 240);
        assert!(!short.held.in_window(at(119), FIVE_MINUTES));
        assert!(short.held.in_window(at(120), FIVE_MINUTES));
        assert_eq!(short.held.renew_at(FIVE_MINUTES), Some(at(108)));
        // 15 minutes of life with a window of 14m50s: 10 fresh seconds, renewed at 9.
        let renewed_often = held(0, 900);
        assert_eq!(
            renewed_often.held.renew_at(Duration::from_secs(890)),
            Some(at(9))
        );
    }

    #[test]
    fn a_failed_renewal_waits_its_back_off_unless_a_request_finds_the_window() {
        let mut entry = held(0, 3600);
        entry.failures = 3;
        entry.retry_at = Some(at(3250));
        assert!(!entry.due(at(3245), FIVE_MINUTES, false));
        // Nudged before the window: the back-off holds.
        assert!(!entry.due(at(3245), FIVE_MINUTES, true));
        assert!(entry.due(at(3250), FIVE_MINUTES, false));
        entry.retry_at = Some(at(3400));
        assert!(!entry.due(at(3310), FIVE_MINUTES, false));
        assert!(entry.due(at(3310), FIVE_MINUTES, true));
        assert_eq!(entry.wake_at(at(3310), FIVE_MINUTES), Some(at(3400)));
        assert_eq!(entry.wake_at(at(100), FIVE_MINUTES), Some(at(3240)));
    }

    #[test]
    fn the_back_off_doubles_from_a_second_to_a_minute() {
        let pauses: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn long_term_keys_never_need_renewing() {
        let mut keys = held(0, 0);
        keys.held.creds.expiration = None;
        assert!(keys.held.valid(at(1_000_000)));
        assert!(!keys.due(at(1_000_000), FIVE_MINUTES, true));
        assert_eq!(keys.wake_at(at(1_000_000), FIVE_MINUTES), None);
    }
}
