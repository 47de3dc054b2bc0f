//! A tiny HTTP server on a free loopback port that counts the STS actions it sees and either
//! forwards each request to moto or answers with a canned fault (a 500, throttling), for the
//! faults moto cannot produce and for counting calls.

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
}

pub struct Proxy {
    pub port: u16,
    /// (action, form body) of every request.
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Proxy {
    pub fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("free port");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (mode, seen) = (mode.clone(), seen.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &mode, &seen);
                });
            }
        });
        Self { port, requests }
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

/// One request per connection: the answer says `Connection: close`.
fn serve(
    stream: TcpStream,
    mode: &Mode,
    seen: &Mutex<Vec<(String, String)>>,
) -> std::io::Result<()> {
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
    let mut client = stream;
    let fault = match mode {
        Mode::Fault(status, text) => Some((*status, *text)),
        Mode::FaultOn(faulty, status, text, _) if *faulty == action => Some((*status, *text)),
        _ => None,
    };
    seen.lock()
        .unwrap()
        .push((action.clone(), form.to_string()));
    let upstream = match mode {
        Mode::Forward(port) | Mode::FaultOn(_, _, _, port) => Some(*port),
        Mode::Fault(..) => None,
    };
    match (fault, upstream) {
        (Some((status, text)), _) => {
            write!(
                client,
                "HTTP/1.1 {status} Fault\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            )?;
        }
        (None, Some(port)) => {
            let mut upstream = TcpStream::connect(("127.0.0.1", port))?;
            for line in &head {
                upstream.write_all(line.as_bytes())?;
            }
            upstream.write_all(b"Connection: close\r\n\r\n")?;
            upstream.write_all(&body)?;
            let mut response = Vec::new();
            upstream.read_to_end(&mut response)?;
            client.write_all(&response)?;
        }
        (None, None) => unreachable!("a fault proxy always answers"),
    }
    client.flush()
}
