//! File names for keys, as aws-vault's file backend makes them: only `/` and `%` are
//! percent-encoded (`%2F`, `%25`). `:` and `,` stay literal.

pub(super) fn encode(key: &str) -> String {
    key.replace('%', "%25").replace('/', "%2F")
}

/// Decodes every `%XX`, as Go's `url.PathUnescape` does; a stray `%` is kept as it is.
pub(super) fn decode(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_only_slash_and_percent() {
        assert_eq!(
            encode("oidc:https://x.example/start"),
            "oidc:https:%2F%2Fx.example%2Fstart"
        );
        assert_eq!(encode("a%b,c"), "a%25b,c");
        assert_eq!(encode("plain"), "plain");
    }

    #[test]
    fn decoding_reverses_encoding() {
        for key in [
            "oidc:https://x/start#/",
            "50%/x",
            "sts.AssumeRole,YQ,,1",
            "%2F literal",
        ] {
            assert_eq!(decode(&encode(key)), key);
        }
        assert_eq!(decode("100%"), "100%");
    }
}
