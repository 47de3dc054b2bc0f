//! What an error page from the federation endpoint may show on stderr. The getSigninToken
//! request carries the session's credentials in its query string, and the pages of proxies and
//! gateways often quote the request they refused, so the page is never printed as it came
//! (issue 16): only a short excerpt of its text, without anything that could be, or be part of,
//! what was sent.

use crate::visible::visible;

/// At most this many characters of the page are shown.
const LIMIT: usize = 200;
/// What stands where words were taken out.
const REMOVED: &str = "[removed]";
/// Parameter and field names that mark a word as part of the request or its session.
const MARKERS: [&str; 6] = [
    "session=",
    "session%3d",
    "sessionid",
    "sessionkey",
    "sessiontoken",
    "getsignintoken",
];
/// A run of this many base64 or percent-encoding characters is taken out whatever it is: a piece
/// of a credential in a form not foreseen here (encoded twice, or with `+` decoded to a space).
const LONG_RUN: usize = 24;
/// A word this long that is part of a value sent is taken out (a piece of a split token).
const PIECE: usize = 8;

/// The text of `body` without its markup, with every word that holds or looks like part of
/// `sent` (the credential values of the request) or the request itself taken out, cut to
/// `LIMIT` characters, control characters made visible. Empty when nothing is left.
pub(super) fn excerpt(body: &str, sent: &[&str]) -> String {
    let sent: Vec<String> = sent
        .iter()
        .filter(|value| !value.is_empty())
        .map(|value| value.to_lowercase())
        .collect();
    let forms: Vec<String> = sent
        .iter()
        .flat_map(|value| {
            [
                value.clone(),
                super::encode(value).to_lowercase(),
                value.replace('/', "\\/"),
            ]
        })
        .collect();
    let text = without_markup(body);
    let mut out = String::new();
    let mut length = 0;
    for word in text.split_whitespace() {
        if length > LIMIT {
            break;
        }
        let word = if suspicious(word, &sent, &forms) {
            if out.ends_with(REMOVED) {
                continue;
            }
            REMOVED
        } else {
            word
        };
        if !out.is_empty() {
            out.push(' ');
            length += 1;
        }
        out.push_str(word);
        length += word.chars().count();
    }
    if length > LIMIT {
        out = out.chars().take(LIMIT).collect();
        out.push('…');
    }
    visible(&out).into_owned()
}

/// Whether `word` may be, or hold, part of what was sent.
fn suspicious(word: &str, sent: &[String], forms: &[String]) -> bool {
    let lower = word.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    MARKERS.iter().any(|marker| lower.contains(marker))
        || (lower.contains('?') && lower.contains('='))
        || forms.iter().any(|form| lower.contains(form.as_str()))
        || (core.len() >= PIECE && sent.iter().any(|value| value.contains(core)))
        || longest_run(&lower) >= LONG_RUN
}

/// The longest run of characters that base64, percent-encoding or JSON escaping produce.
fn longest_run(word: &str) -> usize {
    word.split(|c: char| !(c.is_ascii_alphanumeric() || "+/=%\\".contains(c)))
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// `body` with its tags, scripts and styles taken out, each replaced by a space: error pages
/// are often HTML, and their text is what says what went wrong.
fn without_markup(body: &str) -> String {
    let mut text = String::with_capacity(body.len().min(64 * 1024));
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        text.push(' ');
        let tag = &rest[start..];
        let lower_start: String = tag.chars().take(8).collect::<String>().to_lowercase();
        let end = ["script", "style"]
            .iter()
            .find(|name| lower_start[1..].starts_with(*name))
            .and_then(|name| find_ignoring_case(tag, &format!("</{name}")))
            .unwrap_or(0);
        rest = match tag[end..].find('>') {
            Some(close) => &tag[end + close + 1..],
            None => "",
        };
    }
    text.push_str(rest);
    text
}

/// Where `needle` (ASCII, lower case) is in `haystack`, whatever the case of its letters.
fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_ID: &str = "ASIAEXAMPLEKEYID0001";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc/def+ghi==";

    fn scrubbed(body: &str) -> String {
        excerpt(body, &[KEY_ID, SECRET, TOKEN])
    }

    fn assert_clean(said: &str) {
        for piece in [
            KEY_ID,
            SECRET,
            "wJalrXUtnFEMI",
            "K7MDENG",
            "bPxRfiCYEXAMPLEKEY",
            "IQoJb3JpZ2luX2VjEJr",
            "sessionKey",
            "sessionToken",
            "Session=",
        ] {
            assert!(!said.contains(piece), "{piece:?} in {said:?}");
        }
        assert!(said.chars().count() <= LIMIT + 1, "{said:?}");
    }

    #[test]
    fn a_short_plain_answer_is_shown_as_it_is() {
        assert_eq!(scrubbed("{\"error\":\"nope\"}\n"), "{\"error\":\"nope\"}");
        assert_eq!(scrubbed(""), "");
    }

    #[test]
    fn a_page_quoting_the_request_url_loses_the_query_and_the_values_sent() {
        let session = serde_json::json!({
            "sessionId": KEY_ID, "sessionKey": SECRET, "sessionToken": TOKEN,
        })
        .to_string();
        let encoded = super::super::encode(&session);
        let url = format!(
            "https://signin.aws.amazon.com/federation?Action=getSigninToken&Session={encoded}"
        );
        let lower = encoded.to_lowercase();
        for body in [
            format!(
                "<html><head><title>403 Forbidden</title><style>p {{ color: red }}</style></head><body><p>Access denied by policy for GET {url}</p></body></html>"
            ),
            format!("Forbidden: {session}"),
            format!(
                "Forbidden: {}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "sessionId": KEY_ID, "sessionKey": SECRET, "sessionToken": TOKEN,
                }))
                .unwrap()
            ),
            // Decoded by a form parser: `+` became a space and split the values.
            format!("denied {}", session.replace('+', " ")),
            format!("denied {lower}"),
            format!("key {SECRET} token {TOKEN} id {KEY_ID}"),
            format!("denied {}", super::super::encode(&encoded)),
        ] {
            let said = scrubbed(&body);
            assert_clean(&said);
        }
        let page = scrubbed(&format!(
            "<html><head><style>p {{ color: red }}</style><SCRIPT>var u = '{url}';</script></head>\
             <body><h1>403 Forbidden</h1><p>Access denied by policy for GET {url}</p></body></html>"
        ));
        assert_eq!(
            page,
            "403 Forbidden Access denied by policy for GET [removed]"
        );
    }

    #[test]
    fn a_long_page_is_cut_and_control_characters_are_shown() {
        let said = scrubbed(&"word ".repeat(100));
        assert_eq!(said.chars().count(), LIMIT + 1);
        assert!(said.ends_with('…'), "{said}");
        assert_eq!(scrubbed("bad\u{1b}[2Jthing"), "bad\\x1b[2Jthing");
    }
}
