//! The HTTP/1.1 the credential endpoints speak, on `std::net` alone, with a bound on what any
//! local user can make us hold.
//!
//! tiny_http, used before, starts a thread for every connection before it reads a byte, with no
//! cap and no idle timeout: 5,000 idle connections from another user made 4,883 threads
//! (issue 16). Here each connection has one thread, at most [`MAX_CONNECTIONS`] at once. A
//! connection that has not sent a whole request within [`IDLE`] is closed, and when all places
//! are taken a new connection takes the place of the one that has waited longest without
//! sending a request. An SDK sends its request as soon as it connects, so the command's
//! requests are answered while idle connections flood in; only connections that say nothing
//! are pushed out. The endpoints take no request body and give short answers, so the protocol
//! needed is small: a request head of at most 8 KiB, an ignored body of at most 1 KiB,
//! `Content-Length` answers, and kept-alive connections.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// Connections held at once, each with its thread.
pub(crate) const MAX_CONNECTIONS: usize = 64;
/// How long a connection may take to send a whole request (or stay open between requests).
pub(crate) const IDLE: Duration = Duration::from_secs(5);
/// How long one answer may take to write: a client that does not read its answers holds no
/// place for long.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_HEAD: usize = 8 * 1024;
const MAX_BODY: usize = 1024;

/// One request, as the endpoints see it.
pub(crate) struct Request {
    method: String,
    target: String,
    path: String,
    headers: Vec<(String, String)>,
    peer: SocketAddr,
    /// The uid owning the asking socket, once looked up: shared by the requests of a
    /// connection, whose owner cannot change.
    peer_uid: Rc<OnceCell<Option<u32>>>,
    keep_alive: bool,
}

impl Request {
    pub(crate) fn method(&self) -> &str {
        &self.method
    }

    /// The request target as sent, for logs.
    pub(crate) fn url(&self) -> &str {
        &self.target
    }

    /// The path, percent-decoded and without its query, as Go's `URL.Path` that aws-vault
    /// routes on.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The value of the header `name` (in any case), if the request has one.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The uid owning the asking socket (`peer.rs`), looked up at the connection's first
    /// request that asks: reading `/proc/net/tcp` on every request of a kept-alive connection
    /// would cost more than the answer.
    pub(crate) fn peer_uid(&self, server: SocketAddr) -> Option<u32> {
        *self
            .peer_uid
            .get_or_init(|| super::peer::client_uid(self.peer, server))
    }
}

/// One answer: a status, a body and its headers.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(crate) fn new(status: u16, body: String, content_type: &'static str) -> Self {
        Self {
            status,
            body,
            headers: vec![("Content-Type", content_type.to_owned())],
        }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// Accepts connections on `socket` for ever, answering each request with `answer`'s reply.
pub(crate) fn serve(socket: &TcpListener, name: &str, answer: &(dyn Fn(&Request) -> Reply + Sync)) {
    let slots = Slots::default();
    thread::scope(|scope| {
        for stream in socket.incoming() {
            let stream = match stream {
                Ok(stream) => stream,
                Err(e) => {
                    // Out of descriptors, most likely: let the held connections finish.
                    log::debug!("{name}: cannot accept a connection: {e}");
                    thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            let Some(id) = slots.admit(&stream) else {
                continue;
            };
            let slots = &slots;
            let spawned = thread::Builder::new()
                .name("vault-http".to_owned())
                .spawn_scoped(scope, move || {
                    connection(stream, id, slots, name, answer);
                    slots.release(id);
                });
            if let Err(e) = spawned {
                log::debug!("{name}: cannot start a thread for a connection: {e}");
                slots.release(id);
            }
        }
    });
}

/// The connections held, each with when it began to wait for a request (`None` while one is
/// answered).
#[derive(Default)]
struct Slots {
    held: Mutex<Held>,
    freed: Condvar,
}

#[derive(Default)]
struct Held {
    next_id: u64,
    connections: HashMap<u64, Slot>,
}

struct Slot {
    /// A handle on the connection, to close it from here.
    stream: TcpStream,
    waiting_since: Option<Instant>,
    closing: bool,
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for `stream`, once there is one: when all are taken, the connection that has
    /// waited longest for a request is closed, and its thread gives its place up.
    fn admit(&self, stream: &TcpStream) -> Option<u64> {
        let handle = stream.try_clone().ok()?;
        let mut held = self.lock();
        while held.connections.len() >= MAX_CONNECTIONS {
            let oldest = held
                .connections
                .values_mut()
                .filter(|slot| !slot.closing)
                .filter_map(|slot| Some((slot.waiting_since?, slot)))
                .min_by_key(|(since, _)| *since);
            if let Some((_, slot)) = oldest {
                slot.closing = true;
                let _ = slot.stream.shutdown(Shutdown::Both);
            }
            // Either that thread ends, or one answering finishes.
            held = self
                .freed
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let id = held.next_id;
        held.next_id += 1;
        held.connections.insert(
            id,
            Slot {
                stream: handle,
                waiting_since: Some(Instant::now()),
                closing: false,
            },
        );
        Some(id)
    }

    fn waiting(&self, id: u64, waiting: bool) {
        if let Some(slot) = self.lock().connections.get_mut(&id) {
            slot.waiting_since = waiting.then(Instant::now);
        }
        if waiting {
            // A connection waiting to be admitted may now evict this one.
            self.freed.notify_all();
        }
    }

    fn release(&self, id: u64) {
        self.lock().connections.remove(&id);
        self.freed.notify_all();
    }
}

/// Answers the requests of one connection until it closes, idles or errs.
fn connection(
    mut stream: TcpStream,
    id: u64,
    slots: &Slots,
    name: &str,
    answer: &(dyn Fn(&Request) -> Reply + Sync),
) {
    let Ok(peer) = stream.peer_addr() else {
        return;
    };
    // Answers are one write each; waiting to fill a segment would only add latency.
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut buffer = Vec::new();
    let peer_uid = Rc::new(OnceCell::new());
    loop {
        slots.waiting(id, true);
        let read = read_request(&mut stream, &mut buffer, peer, &peer_uid);
        let (reply, keep_alive) = match read {
            Ok(Some(request)) => {
                // Only while the answer is made (which may wait on STS) is the place not
                // up for eviction; writing it, the connection is as idle as a silent one.
                slots.waiting(id, false);
                let reply = answer(&request);
                slots.waiting(id, true);
                // A refused request closes its connection: another user who keeps asking
                // must connect again, and holds no place meanwhile.
                let keep_alive = request.keep_alive && reply.status < 400;
                (reply, keep_alive)
            }
            Ok(None) => return,
            Err(status) => (
                Reply::new(
                    status,
                    reason(status).to_owned(),
                    "text/plain; charset=utf-8",
                ),
                false,
            ),
        };
        if let Err(e) = stream.write_all(&encode(&reply, keep_alive)) {
            log::debug!("{name}: could not answer: {e}");
            return;
        }
        if !keep_alive {
            return;
        }
    }
}

/// The next request on `stream`; `None` when the connection closes or stays silent for
/// [`IDLE`]; an error status for a request that cannot be answered.
fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    peer: SocketAddr,
    peer_uid: &Rc<OnceCell<Option<u32>>>,
) -> Result<Option<Request>, u16> {
    let deadline = Instant::now() + IDLE;
    let end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_HEAD {
            return Err(431);
        }
        if !fill(stream, buffer, deadline) {
            return Ok(None);
        }
    };
    let head = buffer.drain(..end + 4).collect::<Vec<u8>>();
    let mut request = parse_head(&head[..end], peer, Rc::clone(peer_uid))?;
    let body = match request.header("Content-Length") {
        None => 0,
        Some(length) => length.trim().parse::<usize>().map_err(|_| 400_u16)?,
    };
    if request.header("Transfer-Encoding").is_some() {
        return Err(501);
    }
    if body > MAX_BODY {
        return Err(413);
    }
    while buffer.len() < body {
        if !fill(stream, buffer, deadline) {
            return Ok(None);
        }
    }
    buffer.drain(..body);
    request.keep_alive &= request
        .header("Connection")
        .is_none_or(|value| !value.eq_ignore_ascii_case("close"));
    Ok(Some(request))
}

/// Reads what has arrived into `buffer`; false once the connection is closed or `deadline`
/// has passed.
fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
        return false;
    }
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request line and headers (without the blank line that ends them).
fn parse_head(
    head: &[u8],
    peer: SocketAddr,
    peer_uid: Rc<OnceCell<Option<u32>>>,
) -> Result<Request, u16> {
    let head = std::str::from_utf8(head).map_err(|_| 400_u16)?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if method.is_empty() || !target.starts_with('/') {
        return Err(400);
    }
    let keep_alive = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(505),
    };
    let mut headers = Vec::new();
    for line in lines {
        let (field, value) = line.split_once(':').ok_or(400_u16)?;
        if field.is_empty() || field.contains(|c: char| c.is_ascii_whitespace()) {
            return Err(400);
        }
        headers.push((field.to_owned(), value.trim().to_owned()));
    }
    let raw_path = target.split(['?', '#']).next().unwrap_or_default();
    Ok(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        path: percent_decode(raw_path).ok_or(400_u16)?,
        headers,
        peer,
        peer_uid,
        keep_alive,
    })
}

/// `%XX` escapes decoded; `None` for a malformed escape or text that is not UTF-8 once
/// decoded, which Go's server (and so aws-vault) answers with a 400.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn encode(reply: &Reply, keep_alive: bool) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n", reply.body.len());
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(reply.body.as_bytes());
    bytes
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Internal Server Error",
    }
}

/// A socket on a random port of 127.0.0.1.
pub(crate) fn bind() -> io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 1))
    }

    #[test]
    fn the_path_is_percent_decoded_and_loses_its_query() {
        let head = b"GET /role-arn/arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx?x=1 HTTP/1.1\r\nHost: h";
        let request = parse_head(head, peer(), Rc::default()).unwrap();
        assert_eq!(request.path(), "/role-arn/arn:aws:iam::1:role/x");
        assert_eq!(
            request.url(),
            "/role-arn/arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx?x=1"
        );
        assert_eq!(request.header("host"), Some("h"));
    }

    #[test]
    fn malformed_requests_are_refused_with_their_status() {
        for (head, status) in [
            (&b"GET /a%zz HTTP/1.1"[..], 400),
            (b"GET /a%4 HTTP/1.1", 400),
            (b"GET /%ff HTTP/1.1", 400),
            (b"GET / HTTP/2", 505),
            (b"GET /", 400),
            (b"GET / HTTP/1.1\r\nno colon", 400),
            (b"GET / HTTP/1.1\r\nbad name: x", 400),
            (b"GET nopath HTTP/1.1", 400),
        ] {
            assert_eq!(
                parse_head(head, peer(), Rc::default()).err(),
                Some(status),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    fn start(answer: &'static (dyn Fn(&Request) -> Reply + Sync)) -> SocketAddr {
        let socket = bind().unwrap();
        let address = socket.local_addr().unwrap();
        thread::spawn(move || serve(&socket, "test", answer));
        address
    }

    fn ok(request: &Request) -> Reply {
        Reply::new(200, request.path().to_owned(), "text/plain")
    }

    /// Sends `request` and reads one answer, byte by byte so the next one stays unread: its
    /// status line and body.
    fn ask(stream: &mut TcpStream, request: &str) -> (String, String) {
        stream.write_all(request.as_bytes()).unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .map_or(0, |value| value.trim().parse().unwrap());
        let mut body = vec![0; length];
        stream.read_exact(&mut body).unwrap();
        let status = head.lines().next().unwrap().to_owned();
        (status, String::from_utf8(body).unwrap())
    }

    #[test]
    fn a_kept_alive_connection_gets_one_answer_per_request_even_pipelined() {
        let address = start(&ok);
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .write_all(b"GET /a HTTP/1.1\r\n\r\nPUT /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz")
            .unwrap();
        assert_eq!(
            ask(&mut stream, ""),
            ("HTTP/1.1 200 OK".to_owned(), "/a".to_owned())
        );
        assert_eq!(
            ask(&mut stream, ""),
            ("HTTP/1.1 200 OK".to_owned(), "/b".to_owned())
        );
        let (status, _) = ask(&mut stream, "GET /%zz HTTP/1.1\r\n\r\n");
        assert_eq!(status, "HTTP/1.1 400 Bad Request");
    }

    #[test]
    fn a_full_house_of_silent_connections_gives_way_to_one_that_asks() {
        let address = start(&ok);
        let silent: Vec<TcpStream> = (0..MAX_CONNECTIONS + 10)
            .map(|_| TcpStream::connect(address).unwrap())
            .collect();
        let mut asking = TcpStream::connect(address).unwrap();
        let started = Instant::now();
        let (status, body) = ask(&mut asking, "GET /mine HTTP/1.1\r\n\r\n");
        assert_eq!(
            (status.as_str(), body.as_str()),
            ("HTTP/1.1 200 OK", "/mine")
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        // The earliest silent connections were closed to make room.
        let mut first = &silent[0];
        let _ = first.set_read_timeout(Some(Duration::from_secs(2)));
        assert_eq!(first.read(&mut [0u8; 1]).unwrap_or(0), 0);
    }
}
