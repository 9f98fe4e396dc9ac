//! A guard in front of the protocol framework: reads LSP frames from stdin and forwards only
//! well-formed JSON. tower-lsp-server's reader stops for good after one undecodable message
//! (its framed stream ends on the first decode error), so a single malformed message would
//! leave a dead server. Here a malformed body becomes `invariant/malformed` — a request (when
//! an id can be recovered, so the client gets an error response) or a notification (logged).

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Frames larger than this are refused (a 5 MB document is fine; 256 MB is not an editor).
const MAX_FRAME: usize = 64 * 1024 * 1024;

pub const MALFORMED_METHOD: &str = "invariant/malformed";

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
            let n = reader.read_until(b'\n', &mut line).await?;
            if n == 0 {
                return Ok(());
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
    async fn malformed_frames_are_replaced_and_reading_goes_on() {
        let input = b"Content-Length: 9\r\n\r\n{not jsonContent-Length: 2\r\n\r\n{}".to_vec();
        let mut out = Vec::new();
        sanitize(&input[..], &mut out).await.unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(MALFORMED_METHOD), "{out}");
        assert!(out.ends_with("Content-Length: 2\r\n\r\n{}"), "{out}");
    }
}
