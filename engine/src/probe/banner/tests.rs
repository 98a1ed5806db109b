use proptest::prelude::*;

use super::*;

async fn run(server_says: Vec<u8>) -> (Result<String, Failure>, Option<String>) {
    let (client, mut server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let _ = server.write_all(&server_says).await;
        let mut sink = [0u8; 256];
        let _ = server.read(&mut sink).await;
    });
    let mut seen = None;
    let result = exchange(client, &mut seen).await.map(|(_, banner)| banner);
    (result, seen)
}

fn lines(count: usize, line: &[u8]) -> Vec<u8> {
    line.repeat(count)
}

const IDENT: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

#[tokio::test]
async fn ssh2_banners_after_preamble_lines() {
    let (banner, _) = run([b"Welcome\r\n".as_slice(), IDENT].concat()).await;
    assert_eq!(banner.unwrap(), "SSH-2.0-OpenSSH_9.2p1 Debian-2");
    let (banner, _) = run(b"SSH-1.99-Cisco-1.25\r\n".to_vec()).await;
    assert_eq!(banner.unwrap(), "SSH-1.99-Cisco-1.25");
}

#[tokio::test]
async fn other_protocols_and_ssh1() {
    let (r, seen) = run(b"HTTP/1.0 400 Bad Request\r\n\r\n".to_vec()).await;
    assert_eq!(r.unwrap_err().category, Category::SshNotSsh);
    assert_eq!(seen.as_deref(), Some("HTTP/1.0 400 Bad Request"));
    let (r, _) = run(b"SSH-1.5-OpenSSH_3.4\n".to_vec()).await;
    assert_eq!(r.unwrap_err().category, Category::SshProtocol1);
    let (r, _) = run(b"\x00\x01\x02binary\n".to_vec()).await;
    assert_eq!(r.unwrap_err().category, Category::SshNotSsh);
}

#[tokio::test]
async fn up_to_1023_lines_before_the_identification_as_openssh() {
    let (banner, seen) = run([lines(MAX_LINES - 1, b"hello\r\n"), IDENT.to_vec()].concat()).await;
    assert_eq!(banner.unwrap(), "SSH-2.0-OpenSSH_9.2p1 Debian-2");
    assert_eq!(seen.as_deref(), Some("hello"));
    let (r, _) = run([lines(MAX_LINES, b"hello\n"), IDENT.to_vec()].concat()).await;
    let failure = r.unwrap_err();
    assert_eq!(failure.category, Category::SshNotSsh);
    assert!(
        failure.message.contains("first 1024 lines"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn lines_of_up_to_8192_bytes_as_openssh() {
    let longest = [vec![b'x'; MAX_LINE], b"\r\n".to_vec()].concat();
    let (banner, _) = run([longest, IDENT.to_vec()].concat()).await;
    assert!(banner.is_ok(), "{banner:?}");
    let too_long = [vec![b'x'; MAX_LINE + 1], b"\r\n".to_vec()].concat();
    let (r, _) = run([too_long, IDENT.to_vec()].concat()).await;
    assert_eq!(r.unwrap_err().category, Category::SshNotSsh);
    // A line that never ends is refused once it is too long, without waiting for more.
    let (r, _) = run(vec![b'x'; MAX_LINE + 2]).await;
    assert!(r.unwrap_err().message.contains("longer than 8192"));
}

#[tokio::test]
async fn escapes_are_lines_but_a_stray_cr_or_nul_is_not_ssh() {
    let (banner, seen) = run([b"\x1b[31mred\x1b]0;t\x07\r\r\n".as_slice(), IDENT].concat()).await;
    assert!(banner.is_ok(), "{banner:?}");
    assert_eq!(seen.as_deref(), Some("\\u{1b}[31mred\\u{1b}]0;t\\u{7}"));
    for bad in [b"a\rb\n".as_slice(), b"a\0b\n"] {
        let (r, _) = run([bad, IDENT].concat()).await;
        assert_eq!(r.unwrap_err().category, Category::SshNotSsh, "{bad:?}");
    }
}

#[tokio::test]
async fn what_follows_the_identification_is_replayed() {
    let (client, mut server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let _ = server.write_all(b"pre\r\nSSH-2.0-x\r\nKEXINIT").await;
        let mut sink = [0u8; 256];
        let _ = server.read(&mut sink).await;
    });
    let (mut preface, _) = exchange(client, &mut None).await.unwrap();
    let mut replayed = vec![0u8; 18];
    preface.read_exact(&mut replayed).await.unwrap();
    assert_eq!(replayed, b"SSH-2.0-x\r\nKEXINIT");
}

/// Feeds `bytes` in chunks of `chunk` as reads would, checking the buffer stays bounded.
fn feed(bytes: &[u8], chunk: usize) -> (Result<Option<String>, Failure>, Lines, Option<String>) {
    let mut reader = Lines::default();
    let mut seen = None;
    for piece in bytes.chunks(chunk.max(1)) {
        reader.pending.extend_from_slice(piece);
        match reader.next_identification(&mut seen) {
            Ok(None) => assert!(
                reader.pending.len() <= MAX_LINE + 1,
                "holds one line at most"
            ),
            done => return (done, reader, seen),
        }
    }
    (Ok(None), reader, seen)
}

/// A line a server may send before its identification.
fn pre_line() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(1u8..=255, 0..200).prop_filter_map("a pre-banner line", |mut l| {
        l.retain(|b| !matches!(b, b'\r' | b'\n'));
        let plain = !l.starts_with(b"SSH-") && !looks_like_other_protocol(&l);
        l.extend_from_slice(b"\r\n");
        plain.then_some(l)
    })
}

proptest! {
    #[test]
    fn any_bytes_end_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..20_000), chunk in 1usize..4096) {
        let (_, reader, seen) = feed(&bytes, chunk);
        prop_assert!(reader.count <= MAX_LINES);
        prop_assert!(seen.is_none_or(|s| s.len() <= 255 * 10 + 3));
    }

    #[test]
    fn lines_then_identification_round_trip(
        pre in proptest::collection::vec(pre_line(), 0..50),
        software in "[A-Za-z0-9_.]{1,40}",
        rest in proptest::collection::vec(any::<u8>(), 0..100),
        chunk in 1usize..512,
    ) {
        let ident = format!("SSH-2.0-{software}");
        let after = [ident.as_bytes(), b"\r\n", &rest].concat();
        let bytes = [pre.concat(), after.clone()].concat();
        let (result, reader, _) = feed(&bytes, chunk);
        prop_assert_eq!(result.unwrap(), Some(ident));
        // What russh reads again: the identification and everything after it, unchanged,
        // up to the chunk the identification completed in.
        prop_assert!(after.starts_with(&reader.pending));
        prop_assert!(reader.pending.len() >= ident_len(&after));
    }
}

fn ident_len(after: &[u8]) -> usize {
    after
        .iter()
        .position(|b| *b == b'\n')
        .map_or(after.len(), |n| n + 1)
}
