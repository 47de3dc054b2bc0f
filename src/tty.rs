//! Questions asked on the controlling terminal (`/dev/tty`), never on stdin or stdout, so they
//! work while stdout is captured (`$(vault …)`, credential_process) or stdin is a pipe.

use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, Write};

use crate::secret::Secret;

const TTY: &str = "/dev/tty";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot ask for {what}: there is no terminal to ask on ({source})")]
    NoTerminal {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("no answer for {what}: the terminal closed")]
    Closed { what: String },
}

/// Tells the person at the terminal `line` (between tries of a question); nothing when there
/// is no terminal.
pub(crate) fn say(line: &str) {
    if let Ok(mut tty) = OpenOptions::new().write(true).open(TTY) {
        let _ = writeln!(tty, "{line}");
    }
}

/// How many times a question is asked before vault gives up, as sudo does.
pub(crate) const TRIES: u32 = 3;

/// Asks `prompt` and reads one line, echoed. The answer is trimmed.
pub(crate) fn read_line(prompt: &str) -> Result<String, Error> {
    let what = what_for(prompt);
    let no_tty = |source| Error::NoTerminal {
        what: what.clone(),
        source,
    };
    let mut tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open(TTY)
        .map_err(no_tty)?;
    tty.write_all(prompt.as_bytes())
        .and_then(|()| tty.flush())
        .map_err(no_tty)?;
    let mut line = String::new();
    let read = BufReader::new(tty).read_line(&mut line).map_err(no_tty)?;
    if read == 0 {
        return Err(Error::Closed { what });
    }
    Ok(line.trim().to_owned())
}

/// Asks `prompt` and reads a line without echo.
pub(crate) fn read_hidden(prompt: &str) -> Result<Secret, Error> {
    rpassword::prompt_password(prompt)
        .map(|answer| Secret::new(answer.trim_end_matches(['\r', '\n'])))
        .map_err(|source| match source.kind() {
            io::ErrorKind::UnexpectedEof => Error::Closed {
                what: what_for(prompt),
            },
            _ => Error::NoTerminal {
                what: what_for(prompt),
                source,
            },
        })
}

/// Asks a yes/no question; only `y` or `yes` (any case) mean yes.
pub(crate) fn confirm(prompt: &str) -> Result<bool, Error> {
    let answer = read_line(prompt)?;
    Ok(matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// "Enter Access Key ID: " → "the Access Key ID", for error messages.
fn what_for(prompt: &str) -> String {
    let text = prompt.trim().trim_end_matches(':').trim();
    let text = text
        .strip_prefix("Enter ")
        .map_or_else(|| text.to_owned(), |rest| format!("the {rest}"));
    text.split(" (").next().unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_name_what_was_asked() {
        assert_eq!(what_for("Enter Access Key ID: "), "the Access Key ID");
        assert_eq!(
            what_for("Delete credentials for profile \"p\"? (y|N) "),
            "Delete credentials for profile \"p\"?"
        );
    }
}
