//! A guard in front of the protocol framework: reads LSP frames from stdin and forwards only
//! well-formed JSON. tower-lsp-server's reader stops for good after one undecodable message
//! (its framed stream ends on the first decode error), so a single malformed message would
//! leave a dead server. Here a malformed body becomes `invariant/malformed` — a request (when
//! an id can be recovered, so the client gets an error response) or a notification (logged).

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Frames larger than this are refused (a 5 MB document is fine; 256 MB is not an editor).
const MAX_FRAME: usize = 64 * 1024 * 1024;

pub const MALFORMED_METHOD: &str = "invariant/malformed";

/// Header lines longer than this are discarded as they stream by (real headers are a few
/// dozen bytes): one line with no newline must not be buffered without bound.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// Reads one header line into `line` (at most [`MAX_HEADER_LINE`] bytes kept). Returns the
/// bytes consumed (0 at end of input) and whether the line was cut.
async fn read_header_line<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut cut = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok((consumed, cut));
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = MAX_HEADER_LINE.saturating_sub(line.len());
        if take > room {
            cut = true;
        }
        line.extend_from_slice(&buf[..take.min(room)]);
        reader.consume(take);
        consumed += take;
        if done {
            return Ok((consumed, cut));
        }
    }
}

/// The `"id"` of a JSON-RPC message that failed to parse, if it can be read off the text.
fn recover_id(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let at = text.find("\"id\"")? + 4;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(stripped) = rest.strip_prefix('"') {
        let end = stripped.find('"')?;
        let id = &stripped[..end];
        return (!id.contains('\\')).then(|| format!("\"{id}\""));
    }
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
    (!digits.is_empty()).then_some(digits)
}

fn replacement(body: &[u8], error: &str) -> String {
    let params = serde_json::json!({ "error": error }).to_string();
    match recover_id(body) {
        Some(id) => format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{MALFORMED_METHOD}","params":{params}}}"#),
        None => format!(r#"{{"jsonrpc":"2.0","method":"{MALFORMED_METHOD}","params":{params}}}"#),
    }
}

async fn write_frame<W: AsyncWrite + Unpin>(out: &mut W, body: &[u8]) -> std::io::Result<()> {
    out.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
        .await?;
    out.write_all(body).await?;
    out.flush().await
}

/// Copies frames from `input` to `output`, replacing undecodable bodies. Ends at EOF or after
/// forwarding `exit`.
pub async fn sanitize<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(input: R, mut output: W) -> std::io::Result<()> {
    let mut reader = BufReader::new(input);
    loop {
        let mut length: Option<usize> = None;
        let mut saw_header = false;
        loop {
            let mut line = Vec::new();
            let (n, cut) = read_header_line(&mut reader, &mut line).await?;
            if n == 0 {
                return Ok(());
            }
            if cut {
                tracing::warn!(bytes = n, "LSP header line over the limit; discarded");
                saw_header = true;
                continue;
            }
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if saw_header {
                    break;
                }
                continue;
            }
            saw_header = true;
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().ok();
                }
            }
        }
        let Some(length) = length else {
            tracing::warn!("LSP frame without a valid Content-Length; skipped");
            continue;
        };
        if length > MAX_FRAME {
            tracing::warn!(length, "LSP frame over the size limit; skipped");
            let mut sink = (&mut reader).take(length as u64);
            tokio::io::copy(&mut sink, &mut tokio::io::sink()).await?;
            let body = replacement(b"", &format!("message of {length} bytes is over the limit"));
            write_frame(&mut output, body.as_bytes()).await?;
            continue;
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).await?;
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(message) => {
                write_frame(&mut output, &body).await?;
                if message.get("method").and_then(|m| m.as_str()) == Some("exit") {
                    return Ok(());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "malformed LSP message");
                write_frame(&mut output, replacement(&body, &e.to_string()).as_bytes()).await?;
            }
        }
    }
}

/// Reads one `Content-Length`-framed JSON message from a blocking reader (for clients of the
/// server: the benchmark and the protocol tests). `None` at end of input or on a broken frame.
pub fn read_message(reader: &mut impl std::io::BufRead) -> Option<serde_json::Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_recovered_from_broken_messages() {
        assert_eq!(
            recover_id(br#"{"jsonrpc":"2.0","id": 7,"method":"x","params":{"a":"\ud800"}}"#),
            Some("7".into())
        );
        assert_eq!(recover_id(br#"{"id":"abc", broken"#), Some("\"abc\"".into()));
        assert_eq!(recover_id(b"{not json"), None);
    }

    #[test]
    fn blocking_reader_reads_frames_in_order() {
        let input = b"Content-Length: 2\r\n\r\n{}Content-Length: 8\r\n\r\n{\"a\": 1}";
        let mut reader = std::io::BufReader::new(&input[..]);
        assert_eq!(read_message(&mut reader), Some(serde_json::json!({})));
        assert_eq!(read_message(&mut reader), Some(serde_json::json!({"a": 1})));
        assert_eq!(read_message(&mut reader), None);
    }

    #[tokio::test]
    async fn an_endless_header_line_is_discarded_not_buffered() {
        // 4 MB of header with no newline, then a valid frame: the long line is dropped as it
        // streams by (a cut line never counts as a Content-Length) and the frame after it goes
        // through.
        let mut input = vec![b'X'; 4 * 1024 * 1024];
        input.extend_from_slice(b"\r\n\r\nContent-Length: 2\r\n\r\n{}");
        let mut out = Vec::new();
        sanitize(&input[..], &mut out).await.unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "Content-Length: 2\r\n\r\n{}");
        let mut line = Vec::new();
        let mut reader = tokio::io::BufReader::new(&input[..]);
        let (n, cut) = read_header_line(&mut reader, &mut line).await.unwrap();
        assert!(cut);
        assert_eq!(n, 4 * 1024 * 1024 + 2);
        assert!(line.len() <= MAX_HEADER_LINE);
    }

    #[tokio::test]
    async fn malformed_frames_are_replaced_and_reading_goes_on() {
        let input = b"Content-Length: 9\r\n\r\n{not jsonContent-Length: 2\r\n\r\n{}".to_vec();
        let mut out = Vec::new();
        sanitize(&input[..], &mut out).await.unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(MALFORMED_METHOD), "{out}");
        assert!(out.ends_with("Content-Length: 2\r\n\r\n{}"), "{out}");
    }
}
