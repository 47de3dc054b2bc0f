//! Who is asking: the uid that owns the client end of a loopback TCP connection.
//!
//! The EC2 metadata protocol has no shared secret (any process that can reach the endpoint may
//! ask it for a session token), so on a machine with other users the endpoint must check the
//! asker itself. The kernel lists every TCP socket with its owner's uid in `/proc/net/tcp` (and
//! `/proc/net/tcp6`, where an IPv6 socket talking to 127.0.0.1 appears with `::ffff:127.0.0.1`):
//! the client's socket is the line whose local address is the client's and whose remote address
//! is ours. Our own end of the connection has the addresses the other way round, and our uid.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const TABLES: [&str; 2] = ["/proc/net/tcp", "/proc/net/tcp6"];

/// The uid owning the socket at `client` connected to `server`, or `None` when no such
/// connection is listed (it has closed, or the tables cannot be read).
pub(crate) fn client_uid(client: SocketAddr, server: SocketAddr) -> Option<u32> {
    TABLES.iter().find_map(|path| {
        let table = std::fs::read_to_string(path).ok()?;
        find_uid(&table, client, server)
    })
}

/// Fails, saying why, where the socket tables cannot be read (no /proc, or not Linux): the
/// endpoint could then not tell our requests from anyone else's.
pub(crate) fn check_available() -> io::Result<()> {
    std::fs::File::open(TABLES[0]).map(drop).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot read {} to check who asks the metadata endpoint: {e}",
                TABLES[0]
            ),
        )
    })
}

/// The uid column of the line of `table` for the socket `local` connected to `remote`.
fn find_uid(table: &str, local: SocketAddr, remote: SocketAddr) -> Option<u32> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (l, r, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
        (parse_address(l)? == canonical(local) && parse_address(r)? == canonical(remote))
            .then(|| uid.parse().ok())
            .flatten()
    })
}

/// An address as the kernel prints it: the IP as 32-bit words in the host's byte order, in
/// hex, then `:` and the port in hex. IPv4-mapped IPv6 addresses come back as IPv4.
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut words = Vec::with_capacity(4);
    for chunk in ip.as_bytes().chunks(8) {
        let word = std::str::from_utf8(chunk).ok()?;
        words.push(u32::from_str_radix(word, 16).ok()?.to_ne_bytes());
    }
    let ip = match words.as_slice() {
        [v4] => IpAddr::V4(Ipv4Addr::from(*v4)),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (slot, word) in bytes.chunks_mut(4).zip([a, b, c, d]) {
                slot.copy_from_slice(word);
            }
            IpAddr::V6(Ipv6Addr::from(bytes)).to_canonical()
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `/proc/net/tcp` holds on a little-endian machine while uid 1000 (client port
    /// 0xC350 = 50000) talks to our endpoint on port 0x1F90 = 8080, owned by uid 0; the first
    /// line is a listener, the last another connection.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1062 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 2002 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:C351 0100007F:0050 01 00000000:00000000 00:00000000 00000000  1001        0 2003 1 0000000000000000 20 4 30 10 -1
";

    /// An IPv6 socket of uid 65534 (port 0xC352) talking to our endpoint through
    /// `::ffff:127.0.0.1`.
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:C352 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 3001 1 0000000000000000 20 4 30 10 -1
";

    fn at(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn the_client_end_of_the_connection_gives_the_uid_not_our_end() {
        assert_eq!(find_uid(TCP, at(50000), at(8080)), Some(1000));
        // Our own end, the other way round, is ours (uid 0): not what is asked.
        assert_eq!(find_uid(TCP, at(8080), at(50000)), Some(0));
        // A connection to some other port is not one to us.
        assert_eq!(find_uid(TCP, at(50001), at(8080)), None);
        assert_eq!(find_uid(TCP, at(50009), at(8080)), None);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn an_ipv6_socket_reaching_127_0_0_1_is_found_in_tcp6() {
        assert_eq!(find_uid(TCP6, at(50002), at(8080)), Some(65534));
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let table = "header\n   0: nonsense\n   1: 0100007F:XYZ 0100007F:1F90 01 a b c 5\n";
        assert_eq!(find_uid(table, at(50000), at(8080)), None);
    }

    #[test]
    fn the_live_table_lists_our_own_connection_with_our_uid() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let uid = client_uid(client.local_addr().unwrap(), listener.local_addr().unwrap());
        assert_eq!(uid, Some(nix::unistd::getuid().as_raw()));
    }
}
