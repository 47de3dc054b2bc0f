//! A tiny HTTP server on a free loopback port that counts the STS actions it sees and either
//! forwards each request to moto or answers with a canned fault (a 500, throttling), for the
//! faults moto cannot produce and for counting calls. Its mode can change while it runs (STS
//! down, then up again), it can accept and never answer (a hung STS), and it can rewrite what
//! moto answers (an `&#0;` in a token).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub enum Mode {
    /// Pass every request on to this port.
    Forward(u16),
    /// Answer every request with this status and body.
    Fault(u16, &'static str),
    /// Answer requests for this action with this status and body; forward the others.
    FaultOn(&'static str, u16, &'static str, u16),
    /// Read the request and never answer: STS that accepts connections and hangs.
    Hang,
    /// Close every connection without an answer: STS that cannot be reached.
    Closed,
    /// Forward to this port, replacing the first text with the second in each answer.
    Rewrite(u16, &'static str, &'static str),
    /// Forward to this port after waiting this long: a slow STS.
    Slow(u16, std::time::Duration),
    /// Answer 200 with this many bytes of XML-ish filler, streamed, with the length declared
    /// in `Content-Length` or (false) not, the body ending when the connection closes.
    Huge { bytes: usize, declared: bool },
    /// Forward to this port, but SIGKILL the process given to `kill_on_call` at the `nth`
    /// (from 1) request for `action`: before forwarding it, or after (the call then took
    /// effect, and its caller never hears so).
    KillOn {
        action: &'static str,
        nth: usize,
        after_forwarding: bool,
        port: u16,
    },
}

pub struct Proxy {
    pub port: u16,
    mode: Arc<Mutex<Mode>>,
    /// The process `Mode::KillOn` kills.
    victim: Arc<Mutex<Option<u32>>>,
    /// (action, form body) of every request.
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Proxy {
    pub fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("free port");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(Mutex::new(mode));
        let victim = Arc::new(Mutex::new(None));
        let (seen, current, target) = (requests.clone(), mode.clone(), victim.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (mode, seen, target) = (
                    current.lock().unwrap().clone(),
                    seen.clone(),
                    target.clone(),
                );
                std::thread::spawn(move || {
                    let _ = serve(stream, &mode, &seen, &target);
                });
            }
        });
        Self {
            port,
            mode,
            victim,
            requests,
        }
    }

    /// The process `Mode::KillOn` kills when its call arrives.
    pub fn kill_on_call(&self, pid: u32) {
        *self.victim.lock().unwrap() = Some(pid);
    }

    /// Changes what the next connections get.
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests named `action` came through.
    pub fn count(&self, action: &str) -> usize {
        self.bodies(action).len()
    }

    pub fn total(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// The form bodies of the requests named `action`, URL-decoded.
    pub fn bodies(&self, action: &str) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, body)| super::form_decode(body))
            .collect()
    }
}

/// `port`, once `delay` has passed.
fn after(delay: std::time::Duration, port: u16) -> u16 {
    std::thread::sleep(delay);
    port
}

/// 200 with `bytes` of filler, streamed, its length declared or not.
fn answer_huge(client: &mut TcpStream, bytes: usize, declared: bool) -> std::io::Result<()> {
    let length = if declared {
        format!("Content-Length: {bytes}\r\n")
    } else {
        String::new()
    };
    write!(
        client,
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n{length}Connection: close\r\n\r\n"
    )?;
    let chunk = vec![b'a'; 64 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        // The client may hang up once it has read enough: that is the point.
        if client.write_all(&chunk[..n]).is_err() {
            return Ok(());
        }
        left -= n;
    }
    client.flush()
}

/// One request per connection: the answer says `Connection: close`.
fn serve(
    stream: TcpStream,
    mode: &Mode,
    seen: &Mutex<Vec<(String, String)>>,
    victim: &Mutex<Option<u32>>,
) -> std::io::Result<()> {
    if matches!(mode, Mode::Closed) {
        return Ok(()); // Dropping the stream closes it unanswered.
    }
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = Vec::new();
    let mut content_length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
            if name.eq_ignore_ascii_case("connection") {
                continue;
            }
        }
        if line == "\r\n" {
            break;
        }
        head.push(line);
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let form = String::from_utf8_lossy(&body);
    let action = form
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or("?")
        .to_owned();
    let nth_of_action = {
        let mut seen = seen.lock().unwrap();
        seen.push((action.clone(), form.to_string()));
        seen.iter().filter(|(a, _)| *a == action).count()
    };
    let kill_here = match mode {
        Mode::KillOn {
            action: wanted,
            nth,
            after_forwarding,
            ..
        } if *wanted == action && *nth == nth_of_action => Some(*after_forwarding),
        _ => None,
    };
    if kill_here == Some(false) {
        kill(victim);
        return Ok(());
    }
    let mut client = stream;
    let fault = match mode {
        Mode::Fault(status, text) => Some((*status, *text)),
        Mode::FaultOn(faulty, status, text, _) if *faulty == action => Some((*status, *text)),
        _ => None,
    };
    if let Some((status, text)) = fault {
        write!(
            client,
            "HTTP/1.1 {status} Fault\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        )?;
        return client.flush();
    }
    if let Mode::Huge { bytes, declared } = mode {
        return answer_huge(&mut client, *bytes, *declared);
    }
    let port = match mode {
        Mode::Forward(port)
        | Mode::FaultOn(_, _, _, port)
        | Mode::Rewrite(port, ..)
        | Mode::KillOn { port, .. } => *port,
        Mode::Slow(port, delay) => after(*delay, *port),
        Mode::Hang => {
            // Keep the connection open, unanswered, until the client gives up.
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
            return Ok(());
        }
        Mode::Fault(..) | Mode::Closed | Mode::Huge { .. } => unreachable!("answered above"),
    };
    let mut upstream = TcpStream::connect(("127.0.0.1", port))?;
    for line in &head {
        upstream.write_all(line.as_bytes())?;
    }
    upstream.write_all(b"Connection: close\r\n\r\n")?;
    upstream.write_all(&body)?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    if kill_here == Some(true) {
        kill(victim);
        return Ok(());
    }
    let response = match mode {
        Mode::Rewrite(_, from, to) => rewrite(&response, |text| text.replacen(from, to, 1)),
        _ => response,
    };
    client.write_all(&response)?;
    client.flush()
}

/// The response with its body changed by `change`, and its Content-Length to match.
fn rewrite(response: &[u8], change: impl Fn(&str) -> String) -> Vec<u8> {
    let text = String::from_utf8_lossy(response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return response.to_vec();
    };
    let body = change(body);
    let head: Vec<String> = head
        .split("\r\n")
        .map(|line| {
            if line.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                line.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

/// SIGKILLs the victim (waiting briefly for the test to name it); the connection closes
/// unanswered.
fn kill(victim: &Mutex<Option<u32>>) {
    for _ in 0..200 {
        if let Some(pid) = *victim.lock().unwrap() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("Mode::KillOn: no process to kill was named");
}
