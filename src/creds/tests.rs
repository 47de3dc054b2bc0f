//! `creds::get` end to end with the fake STS, a memory keystore and a fixed clock: every row of
//! the README's chain table, the MFA step, the 1h cap, the cache's AWS_MIN_TTL rules, the lock's
//! re-read after waiting, and refresh. What the integration tests prove against moto, in
//! milliseconds.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::datetime;

use super::cache::{SessionCache, SessionId};
use super::fake::{self, Call, FakePrompter, FakeSts};
use super::lock::Locks;
use super::*;
use crate::config::Config;
use crate::ctx::Clock;
use crate::keystore::MasterCredentials;
use crate::keystore::memory::MemoryKeystore;

const MFA: &str = "arn:aws:iam::111111111111:mfa/me";
const NOW: OffsetDateTime = datetime!(2026-12-05 12:00 UTC);

fn config_text() -> String {
    format!(
        "[profile user]\nmfa_serial = {MFA}\n\
         [profile role-no-mfa]\nsource_profile = user\nrole_arn = arn:aws:iam::2:role/a\n\
         [profile role]\nsource_profile = user\nrole_arn = arn:aws:iam::2:role/b\nmfa_serial = {MFA}\n\
         [profile role2]\nsource_profile = role\nrole_arn = arn:aws:iam::3:role/d\nmfa_serial = {MFA}\nduration_seconds = 7200\n\
         [profile own]\nrole_arn = arn:aws:iam::6:role/own\nmfa_serial = {MFA}\n\
         [profile process]\ncredential_process = printf '%s' '{{\"Version\":1,\"AccessKeyId\":\"ASIAPROCESS\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"2030-01-01T00:00:00Z\"}}'\n\
         [profile role-of-process]\nsource_profile = process\nrole_arn = arn:aws:iam::4:role/e\nduration_seconds = 7200\n"
    )
}

/// A keystore with long-term keys for `user` and `own`, and a lock directory of its own.
struct World {
    keystore: Rc<MemoryKeystore>,
    config: Config,
    env: Env,
    lock_dir: tempfile::TempDir,
}

/// What one `get` did.
struct Outcome {
    calls: Vec<Call>,
    asked: u32,
    creds: Result<Credentials, Error>,
}

impl Outcome {
    fn key(&self) -> &str {
        &self.creds.as_ref().expect("credentials").access_key_id
    }

    /// Each call as `operation caller mfa duration`, for compact assertions.
    fn calls(&self) -> Vec<String> {
        self.calls
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} {}s",
                    c.operation,
                    c.caller.as_deref().unwrap_or("-"),
                    c.mfa_serial.as_deref().map_or("no-mfa", |_| "mfa"),
                    c.duration.as_secs()
                )
            })
            .collect()
    }
}

impl World {
    fn new() -> Self {
        let keystore = Rc::new(MemoryKeystore::default());
        for (profile, key) in [("user", "AKIAUSER"), ("own", "AKIAOWN")] {
            let keys = MasterCredentials {
                access_key_id: key.to_owned(),
                secret_access_key: crate::secret::Secret::new("long-term-secret"),
            };
            keystore.set(&keys.to_item(profile)).unwrap();
        }
        Self {
            keystore,
            config: Config::parse(PathBuf::from("config"), &config_text()).unwrap(),
            env: Env::default(),
            lock_dir: tempfile::tempdir().unwrap(),
        }
    }

    fn request(profile: &str) -> Request {
        Request {
            profile: profile.to_owned(),
            interactive: true,
            ..Request::default()
        }
    }

    fn get(&self, profile: &str) -> Outcome {
        self.get_with(&Self::request(profile), NOW, Box::new(|_| {}))
    }

    fn get_with(
        &self,
        request: &Request,
        now: OffsetDateTime,
        notices: Box<dyn Fn(&Notice)>,
    ) -> Outcome {
        let sts = FakeSts::new(now);
        let calls = sts.calls();
        let prompter = FakePrompter::answering("123456");
        let asked = Rc::clone(&prompter.asked);
        let services = fake::services(
            sts,
            prompter,
            now,
            Some(self.lock_dir.path().to_owned()),
            notices,
        );
        let creds = get(&services, &self.env, &self.config, &*self.keystore, request)
            .map(|(creds, _)| creds);
        Outcome {
            calls: calls.borrow().clone(),
            asked: asked.get(),
            creds,
        }
    }

    fn session_keys(&self, kind: &str) -> Vec<String> {
        self.keystore
            .list()
            .unwrap()
            .into_iter()
            .filter(|k| k.starts_with(kind))
            .collect()
    }

    /// Stores a GetSessionToken session of `user` that expires `left` after `NOW`.
    fn cache_user_session(&self, key: &str, left: Duration) {
        let cache = SessionCache::new(&*self.keystore, Clock::Fixed(NOW), DEFAULT_MIN_TTL);
        let creds = Credentials {
            access_key_id: key.to_owned(),
            secret_access_key: crate::secret::Secret::new("s"),
            session_token: Some(crate::secret::Secret::new("t")),
            expiration: Some(NOW + left),
        };
        cache.store(&user_session(), &creds).unwrap();
    }
}

fn user_session() -> SessionId {
    SessionId {
        kind: "sts.GetSessionToken",
        profile: "user".to_owned(),
        mfa: MFA.to_owned(),
        inputs: None,
    }
}

#[test]
fn a_user_gets_one_session_token_with_mfa_and_then_the_cached_one() {
    let world = World::new();
    let first = world.get("user");
    assert_eq!(first.calls(), ["GetSessionToken AKIAUSER mfa 3600s"]);
    assert_eq!(first.asked, 1);
    assert_eq!(first.calls[0].mfa_serial.as_deref(), Some(MFA));
    let second = world.get("user");
    assert!(second.calls.is_empty(), "{:?}", second.calls());
    assert_eq!(second.asked, 0);
    assert_eq!(second.key(), first.key());
}

#[test]
fn no_session_hands_out_the_long_term_keys_without_a_call() {
    let world = World::new();
    let mut request = World::request("user");
    request.options.no_session = true;
    let outcome = world.get_with(&request, NOW, Box::new(|_| {}));
    assert!(outcome.calls.is_empty());
    assert_eq!(outcome.key(), "AKIAUSER");
    assert!(world.session_keys("sts.").is_empty());
}

#[test]
fn a_role_with_keys_of_its_own_is_assumed_from_them_with_mfa_and_cached() {
    let world = World::new();
    let first = world.get("own");
    assert_eq!(first.calls(), ["AssumeRole AKIAOWN mfa 3600s"]);
    assert_eq!(first.asked, 1);
    assert!(world.get("own").calls.is_empty());
}

#[test]
fn a_role_without_mfa_is_assumed_once_and_then_cached() {
    let world = World::new();
    let first = world.get("role-no-mfa");
    assert_eq!(first.calls(), ["AssumeRole AKIAUSER no-mfa 3600s"]);
    assert_eq!(first.asked, 0);
    assert!(world.get("role-no-mfa").calls.is_empty());
    assert_eq!(world.session_keys("sts.AssumeRole").len(), 1);
}

#[test]
fn with_no_cache_a_role_without_mfa_is_assumed_every_time_as_in_aws_vault() {
    let world = World::new();
    let mut request = World::request("role-no-mfa");
    request.options.no_role_cache = true;
    for _ in 0..2 {
        let outcome = world.get_with(&request, NOW, Box::new(|_| {}));
        assert_eq!(outcome.calls(), ["AssumeRole AKIAUSER no-mfa 3600s"]);
    }
    assert!(world.session_keys("sts.").is_empty());
}

#[test]
fn a_cached_role_is_assumed_anew_when_its_duration_changes() {
    let world = World::new();
    assert_eq!(
        world.get("role-no-mfa").calls(),
        ["AssumeRole AKIAUSER no-mfa 3600s"]
    );
    let mut request = World::request("role-no-mfa");
    request.overrides.duration = Some(Duration::from_mins(30));
    let shorter = world.get_with(&request, NOW, Box::new(|_| {}));
    assert_eq!(shorter.calls(), ["AssumeRole AKIAUSER no-mfa 1800s"]);
    assert!(
        world
            .get_with(&request, NOW, Box::new(|_| {}))
            .calls
            .is_empty()
    );
    // One session per role: the newer replaced the older.
    assert_eq!(world.session_keys("sts.AssumeRole").len(), 1);
}

#[test]
fn a_role_sharing_its_sources_mfa_rides_an_8h_session_and_asks_once() {
    let world = World::new();
    let first = world.get("role");
    assert_eq!(
        first.calls(),
        [
            "GetSessionToken AKIAUSER mfa 28800s",
            "AssumeRole ASIAGetSessionToken1 no-mfa 3600s"
        ]
    );
    assert_eq!(first.asked, 1);
    // Both the session and the role are cached.
    let second = world.get("role");
    assert!(second.calls.is_empty(), "{:?}", second.calls());
    assert_eq!(second.asked, 0);
}

#[test]
fn a_role_over_1h_is_assumed_from_the_keys_with_its_own_mfa_and_cached() {
    let world = World::new();
    let mut request = World::request("role");
    request.options.requested_duration = Some(Duration::from_hours(2));
    request.overrides.duration = Some(Duration::from_hours(2));
    let first = world.get_with(&request, NOW, Box::new(|_| {}));
    assert_eq!(first.calls(), ["AssumeRole AKIAUSER mfa 7200s"]);
    let second = world.get_with(&request, NOW, Box::new(|_| {}));
    assert!(second.calls.is_empty());
}

#[test]
fn a_chain_of_two_roles_asks_mfa_once_and_caps_the_outer_role_at_1h() {
    let world = World::new();
    let first = world.get("role2");
    assert_eq!(
        first.calls(),
        [
            "GetSessionToken AKIAUSER mfa 28800s",
            "AssumeRole ASIAGetSessionToken1 no-mfa 3600s",
            "AssumeRole ASIAAssumeRole2 no-mfa 3600s"
        ]
    );
    assert_eq!(first.asked, 1);
    let second = world.get("role2");
    assert!(second.calls.is_empty(), "{:?}", second.calls());
    assert_eq!(second.asked, 0);
}

#[test]
fn without_a_session_each_role_of_a_chain_asks_mfa_and_is_cached() {
    let world = World::new();
    let mut request = World::request("role2");
    request.options.no_session = true;
    let first = world.get_with(&request, NOW, Box::new(|_| {}));
    assert_eq!(
        first.calls(),
        [
            "AssumeRole AKIAUSER mfa 3600s",
            "AssumeRole ASIAAssumeRole1 mfa 3600s"
        ]
    );
    assert_eq!(first.asked, 2);
    let second = world.get_with(&request, NOW, Box::new(|_| {}));
    assert!(second.calls.is_empty());
    assert_eq!(world.session_keys("sts.AssumeRole,").len(), 2);
}

#[test]
fn a_role_from_a_credential_process_is_capped_at_1h() {
    let world = World::new();
    let outcome = world.get("role-of-process");
    assert_eq!(outcome.calls(), ["AssumeRole ASIAPROCESS no-mfa 3600s"]);
    assert_eq!(world.session_keys("credential_process,").len(), 1);
}

#[test]
fn from_the_prompt_hook_an_mfa_step_fails_without_asking_or_calling() {
    let world = World::new();
    let mut request = World::request("user");
    request.interactive = false;
    let outcome = world.get_with(&request, NOW, Box::new(|_| {}));
    assert!(matches!(outcome.creds, Err(Error::Mfa { .. })));
    assert!(outcome.calls.is_empty());
    assert_eq!(outcome.asked, 0);
}

#[test]
fn an_sts_failure_names_the_call_and_caches_nothing() {
    let world = World::new();
    let sts = FakeSts::new(NOW);
    sts.fail_next(StsError::Service {
        code: Some("AccessDenied".into()),
        message: Some("no".into()),
        status: Some(403),
    });
    let services = fake::services(
        sts,
        FakePrompter::answering("123456"),
        NOW,
        None,
        Box::new(|_| {}),
    );
    let err = get(
        &services,
        &world.env,
        &world.config,
        &*world.keystore,
        &World::request("user"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "profile user: GetSessionToken failed: AccessDenied: no (HTTP 403)"
    );
    assert!(world.session_keys("sts.").is_empty());
}

#[test]
fn a_cached_session_inside_aws_min_ttl_is_renewed_and_replaced() {
    let world = World::new();
    world.cache_user_session("ASIAOLD", Duration::from_mins(4));
    let outcome = world.get("user");
    assert_eq!(outcome.calls(), ["GetSessionToken AKIAUSER mfa 3600s"]);
    assert_ne!(outcome.key(), "ASIAOLD");
    assert_eq!(world.session_keys("sts.GetSessionToken,").len(), 1);
}

#[test]
fn a_shorter_aws_min_ttl_keeps_using_the_cached_session() {
    let mut world = World::new();
    world.env = Env::from_pairs([("AWS_MIN_TTL", "1m")]);
    world.cache_user_session("ASIAOLD", Duration::from_mins(4));
    let outcome = world.get("user");
    assert!(outcome.calls.is_empty());
    assert_eq!(outcome.key(), "ASIAOLD");
}

#[test]
fn a_malformed_aws_min_ttl_is_ignored_for_the_default() {
    let mut world = World::new();
    world.env = Env::from_pairs([("AWS_MIN_TTL", "soon")]);
    world.cache_user_session("ASIAOLD", Duration::from_mins(4));
    assert_eq!(world.get("user").calls.len(), 1);
}

#[test]
fn refresh_asks_for_more_than_its_window_and_gets_a_new_session() {
    let world = World::new();
    world.cache_user_session("ASIAOLD", Duration::from_mins(8));
    assert_eq!(world.get("user").key(), "ASIAOLD");
    let mut request = World::request("user");
    request.min_ttl = Some(Duration::from_mins(10));
    let refreshed = world.get_with(&request, NOW, Box::new(|_| {}));
    assert_eq!(refreshed.calls.len(), 1);
    // The new session replaced the old one, and later commands use it.
    assert_eq!(world.session_keys("sts.GetSessionToken,").len(), 1);
    assert_eq!(world.get("user").key(), refreshed.key());
}

#[test]
fn time_moving_past_the_session_makes_a_new_one() {
    let world = World::new();
    let first = world.get("user");
    let later = NOW + Duration::from_mins(56);
    let second = world.get_with(&World::request("user"), later, Box::new(|_| {}));
    assert_eq!(second.calls.len(), 1);
    let expiry = |o: &Outcome| o.creds.as_ref().unwrap().expiration.unwrap();
    assert_eq!(expiry(&second), later + Duration::from_hours(1));
    assert!(expiry(&second) > expiry(&first));
}

#[test]
fn a_caller_that_waited_for_the_lock_reads_what_the_holder_stored() {
    let world = World::new();
    // Another process holds the session's lock (an flock on its own open file)...
    let holder = Locks::new(Some(world.lock_dir.path().to_owned()));
    let guard = Rc::new(RefCell::new(
        holder.acquire(&user_session().prefix(), &|| {}),
    ));
    assert!(guard.borrow().is_some());
    // ...and, once we wait, stores the session and lets go.
    let seen = Rc::new(RefCell::new(Vec::new()));
    let notices = {
        let keystore = Rc::clone(&world.keystore);
        let guard = Rc::clone(&guard);
        let seen = Rc::clone(&seen);
        Box::new(move |notice: &Notice| {
            let cache = SessionCache::new(&*keystore, Clock::Fixed(NOW), DEFAULT_MIN_TTL);
            let creds = Credentials {
                access_key_id: "ASIAFROMHOLDER".to_owned(),
                secret_access_key: crate::secret::Secret::new("s"),
                session_token: Some(crate::secret::Secret::new("t")),
                expiration: Some(NOW + Duration::from_hours(1)),
            };
            cache.store(&user_session(), &creds).unwrap();
            seen.borrow_mut().push(notice.clone());
            guard.borrow_mut().take();
        })
    };
    let outcome = world.get_with(&World::request("user"), NOW, notices);
    assert_eq!(outcome.key(), "ASIAFROMHOLDER");
    assert!(outcome.calls.is_empty(), "{:?}", outcome.calls());
    assert_eq!(outcome.asked, 0);
    assert_eq!(
        *seen.borrow(),
        [Notice::WaitingForLock {
            session: user_session().prefix()
        }]
    );
}
