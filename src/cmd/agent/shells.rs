//! The shell a token belongs to, known by its process id and its start time, so that a new
//! process that happens to get the same id later is not taken for it.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Shell {
    pid: i32,
    /// Clock ticks after boot when the process started (field 22 of /proc/PID/stat).
    started: u64,
}

impl Shell {
    /// The running process `pid`, if there is one.
    pub(crate) fn find(pid: i32) -> Option<Self> {
        if pid <= 0 {
            return None;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        if state(&stat) == Some('Z') {
            return None;
        }
        Some(Self {
            pid,
            started: start_time(&stat)?,
        })
    }

    pub(crate) fn pid(self) -> i32 {
        self.pid
    }

    /// Whether the process is still this one, and not a zombie.
    pub(crate) fn alive(self) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) else {
            return false;
        };
        start_time(&stat) == Some(self.started) && state(&stat) != Some('Z')
    }
}

/// The fields after the command name, which is in parentheses and may hold anything.
fn fields(stat: &str) -> impl Iterator<Item = &str> {
    let rest = stat.rfind(')').map_or("", |at| &stat[at + 1..]);
    rest.split_whitespace()
}

fn state(stat: &str) -> Option<char> {
    fields(stat).next()?.chars().next()
}

fn start_time(stat: &str) -> Option<u64> {
    // Field 3 is the first after the name; field 22 is the start time.
    fields(stat).nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_time_is_read_past_a_name_with_spaces_and_parentheses() {
        let stat = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(start_time(stat), Some(98765));
        assert_eq!(state(stat), Some('S'));
    }

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_another_process() {
        let me = Shell::find(i32::try_from(std::process::id()).unwrap()).unwrap();
        assert!(me.alive());
        let other = Shell {
            started: me.started + 1,
            ..me
        };
        assert!(!other.alive());
        assert_eq!(Shell::find(0), None);
    }
}
