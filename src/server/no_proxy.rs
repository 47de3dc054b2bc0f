//! Keeps the command's requests to our endpoint off its HTTP proxy.
//!
//! SDKs send every request through `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` unless `NO_PROXY`
//! names the host, and most do not exempt loopback on their own (botocore does not). A proxy
//! cannot reach our 127.0.0.1 (it would ask its own), and it would see the endpoint's token. So
//! when a proxy is set, `NO_PROXY` and `no_proxy` gain `127.0.0.1` and `localhost`.

use std::ffi::OsString;

const PROXY_VARIABLES: [&str; 3] = ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"];
const LOOPBACK: [&str; 2] = ["127.0.0.1", "localhost"];

/// The `NO_PROXY` and `no_proxy` values the command needs given the environment `env`, or
/// nothing when no proxy is set (or both already name loopback).
///
/// Each keeps what it holds and, when unset, starts from the other, so tools that read only one
/// of the two (curl the lower-case one, some Go programs the upper-case one) agree. A `*`
/// already exempts every host, and curl honours it only alone, so it is left as it is.
pub(crate) fn no_proxy_additions(env: &[(OsString, OsString)]) -> Vec<(&'static str, String)> {
    let proxied = env.iter().any(|(name, value)| {
        let name = name.to_string_lossy();
        PROXY_VARIABLES.iter().any(|p| name.eq_ignore_ascii_case(p)) && !value.is_empty()
    });
    if !proxied {
        return Vec::new();
    }
    let value_of = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.to_str())
            .filter(|v| !v.is_empty())
    };
    let (upper, lower) = (value_of("NO_PROXY"), value_of("no_proxy"));
    [("NO_PROXY", upper.or(lower)), ("no_proxy", lower.or(upper))]
        .into_iter()
        .filter_map(|(name, current)| Some((name, with_loopback(current.unwrap_or(""))?)))
        .collect()
}

/// `list` with the loopback names appended where missing, or `None` when nothing is missing.
fn with_loopback(list: &str) -> Option<String> {
    let entries: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.contains(&"*") {
        return None;
    }
    let missing: Vec<&str> = LOOPBACK
        .into_iter()
        .filter(|host| !entries.iter().any(|e| e.eq_ignore_ascii_case(host)))
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(
        entries
            .into_iter()
            .chain(missing)
            .collect::<Vec<_>>()
            .join(","),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn additions(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
        let env: Vec<(OsString, OsString)> = pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect();
        no_proxy_additions(&env)
    }

    fn both(value: &str) -> Vec<(&'static str, String)> {
        vec![
            ("NO_PROXY", value.to_owned()),
            ("no_proxy", value.to_owned()),
        ]
    }

    #[test]
    fn without_a_proxy_nothing_changes() {
        assert!(additions(&[("PATH", "/bin"), ("NO_PROXY", "corp")]).is_empty());
        assert!(additions(&[("HTTP_PROXY", "")]).is_empty());
    }

    #[test]
    fn any_proxy_variable_in_any_case_adds_loopback_to_both() {
        for name in ["HTTP_PROXY", "https_proxy", "All_Proxy"] {
            assert_eq!(
                additions(&[(name, "http://proxy:3128")]),
                both("127.0.0.1,localhost"),
                "{name}"
            );
        }
    }

    #[test]
    fn existing_entries_are_kept_and_loopback_is_not_repeated() {
        assert_eq!(
            additions(&[("HTTP_PROXY", "p"), ("NO_PROXY", "corp.example, LOCALHOST")]),
            both("corp.example,LOCALHOST,127.0.0.1")
        );
    }

    #[test]
    fn each_variable_keeps_its_own_list_and_an_unset_one_copies_the_other() {
        assert_eq!(
            additions(&[("http_proxy", "p"), ("no_proxy", ".corp")]),
            both(".corp,127.0.0.1,localhost")
        );
        assert_eq!(
            additions(&[("http_proxy", "p"), ("no_proxy", "a"), ("NO_PROXY", "b")]),
            vec![
                ("NO_PROXY", "b,127.0.0.1,localhost".to_owned()),
                ("no_proxy", "a,127.0.0.1,localhost".to_owned())
            ]
        );
    }

    #[test]
    fn lists_that_already_exempt_loopback_or_everything_are_left_alone() {
        assert!(additions(&[("HTTP_PROXY", "p"), ("NO_PROXY", "localhost,127.0.0.1")]).is_empty());
        assert!(additions(&[("HTTP_PROXY", "p"), ("no_proxy", "*")]).is_empty());
    }
}
