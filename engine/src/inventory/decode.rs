//! The inventory's bytes as UTF-8, whatever they were saved in: Excel on a Chinese Windows
//! saves "CSV" as GBK/GB18030 without a BOM, "Unicode text" as UTF-16 with one; JumpServer
//! itself writes UTF-8 with a BOM. Decoding streams: a few KiB at a time, never the file.

use std::io::{self, BufRead, Read};

use encoding_rs::{Decoder, DecoderResult, GB18030, GBK, UTF_16BE, UTF_16LE};

/// The encoding the inventory is read in; `Auto` detects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Encoding {
    /// A BOM (UTF-8, UTF-16 LE/BE) decides; without one, UTF-8 unless the first
    /// non-ASCII text is not UTF-8, then GB18030 (a superset of GBK).
    #[default]
    Auto,
    #[cfg_attr(feature = "clap", value(name = "utf-8"))]
    Utf8,
    #[cfg_attr(feature = "clap", value(name = "utf-16le"))]
    Utf16Le,
    #[cfg_attr(feature = "clap", value(name = "utf-16be"))]
    Utf16Be,
    Gb18030,
    Gbk,
}

/// How much text after the first non-ASCII byte decides between UTF-8 and GB18030. A few
/// Chinese characters in GBK are already invalid UTF-8 (a GBK trail byte is rarely a UTF-8
/// continuation byte), so this is far more than needed.
const WINDOW: usize = 4096;

/// The decoded text, as UTF-8 bytes. A sequence that is not valid in the source encoding
/// comes out as a byte that is never valid UTF-8 (0xFF), so the row holding it is reported
/// bad exactly as a bad UTF-8 sequence in a UTF-8 file is, and no other row is affected.
pub struct Decoded {
    source: Box<dyn BufRead + Send>,
    state: State,
    /// A malformed sequence's marker that did not fit in the last read.
    marker_due: bool,
}

enum State {
    /// Auto, ASCII so far: ASCII reads the same in every candidate, so the choice waits
    /// for the first non-ASCII text, wherever it is. This is why a file whose first
    /// megabytes are ASCII and whose later rows are GBK is still read right, without an
    /// error asking for `--encoding` and without holding the prefix in memory.
    Undecided,
    /// UTF-8, passed on as it is.
    Raw,
    Decode(Decoder),
    Done,
}

impl Decoded {
    pub fn new(mut source: Box<dyn BufRead + Send>, encoding: Encoding) -> io::Result<Decoded> {
        let head = source.fill_buf()?;
        let codec = match encoding {
            Encoding::Auto => match encoding_rs::Encoding::for_bom(head) {
                Some((codec, _)) if codec == encoding_rs::UTF_8 => None,
                Some((codec, _)) => Some(codec),
                None => {
                    return Ok(Decoded::with(source, State::Undecided));
                }
            },
            Encoding::Utf8 => None,
            Encoding::Utf16Le => Some(UTF_16LE),
            Encoding::Utf16Be => Some(UTF_16BE),
            Encoding::Gb18030 => Some(GB18030),
            Encoding::Gbk => Some(GBK),
        };
        let state = match codec {
            // The decoder drops its own BOM.
            Some(codec) => State::Decode(codec.new_decoder_with_bom_removal()),
            None => {
                if head.starts_with(b"\xef\xbb\xbf") {
                    source.consume(3);
                }
                State::Raw
            }
        };
        Ok(Decoded::with(source, state))
    }

    fn with(source: Box<dyn BufRead + Send>, state: State) -> Decoded {
        Decoded {
            source,
            state,
            marker_due: false,
        }
    }

    /// Reads the window after the first non-ASCII byte and settles the encoding; the
    /// window is then read again, through the chosen decoding.
    fn decide(&mut self) -> io::Result<State> {
        let mut window = Vec::with_capacity(WINDOW);
        while window.len() < WINDOW {
            let buf = self.source.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let n = buf.len().min(WINDOW - window.len());
            window.extend_from_slice(&buf[..n]);
            self.source.consume(n);
        }
        // A sequence cut by the window's end (or the file's) is no evidence against UTF-8.
        let utf8 = match std::str::from_utf8(&window) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        };
        let rest = std::mem::replace(&mut self.source, Box::new(io::empty()));
        self.source = Box::new(io::Cursor::new(window).chain(rest));
        Ok(if utf8 {
            State::Raw
        } else {
            State::Decode(GB18030.new_decoder_without_bom_handling())
        })
    }
}

impl Read for Decoded {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.marker_due {
            self.marker_due = false;
            out[0] = 0xff;
            return Ok(1);
        }
        loop {
            match &mut self.state {
                State::Done => return Ok(0),
                State::Raw => return self.source.read(out),
                State::Undecided => {
                    let buf = self.source.fill_buf()?;
                    if buf.is_empty() {
                        return Ok(0);
                    }
                    let n = buf.len().min(out.len());
                    let ascii = encoding_rs::mem::copy_ascii_to_ascii(&buf[..n], out);
                    if ascii > 0 {
                        self.source.consume(ascii);
                        return Ok(ascii);
                    }
                    self.state = self.decide()?;
                }
                State::Decode(decoder) => {
                    let buf = self.source.fill_buf()?;
                    let last = buf.is_empty();
                    let (result, read, written) =
                        decoder.decode_to_utf8_without_replacement(buf, out, last);
                    self.source.consume(read);
                    match result {
                        DecoderResult::Malformed(..) => {
                            if written < out.len() {
                                out[written] = 0xff;
                                return Ok(written + 1);
                            }
                            self.marker_due = true;
                            return Ok(written);
                        }
                        DecoderResult::InputEmpty if last => {
                            self.state = State::Done;
                            return Ok(written);
                        }
                        // Only part of a character so far: read on for the rest.
                        DecoderResult::InputEmpty if written == 0 => continue,
                        DecoderResult::InputEmpty | DecoderResult::OutputFull => {
                            if written > 0 {
                                return Ok(written);
                            }
                            // `out` cannot hold one character; the reader's own callers
                            // read through a BufReader with room for many.
                            return Err(io::Error::other(
                                "read buffer too small to hold one decoded character",
                            ));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], encoding: Encoding) -> Vec<u8> {
        let source = Box::new(io::BufReader::with_capacity(
            7,
            io::Cursor::new(bytes.to_vec()),
        ));
        let mut out = Vec::new();
        // Small reads, to cross every boundary.
        let mut decoded = Decoded::new(source, encoding).unwrap();
        let mut chunk = [0u8; 5];
        loop {
            let n = decoded.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        out
    }

    const TEXT: &str = "ID,IP,主机名\r\n1,10.0.0.1,数据库-1\r\n";

    #[test]
    fn boms_decide() {
        let mut utf16le = vec![0xff, 0xfe];
        let mut utf16be = vec![0xfe, 0xff];
        for unit in TEXT.encode_utf16() {
            utf16le.extend_from_slice(&unit.to_le_bytes());
            utf16be.extend_from_slice(&unit.to_be_bytes());
        }
        let mut utf8 = b"\xef\xbb\xbf".to_vec();
        utf8.extend_from_slice(TEXT.as_bytes());
        for bytes in [utf16le, utf16be, utf8] {
            assert_eq!(decode(&bytes, Encoding::Auto), TEXT.as_bytes());
        }
    }

    #[test]
    fn gbk_is_detected_even_after_a_long_ascii_prefix() {
        let mut text = "a,b\n".repeat(100_000);
        text.push_str(TEXT);
        let (gbk, _, _) = GBK.encode(&text);
        assert_eq!(decode(&gbk, Encoding::Auto), text.as_bytes());
        assert_eq!(decode(&gbk, Encoding::Gbk), text.as_bytes());
        assert_eq!(decode(text.as_bytes(), Encoding::Auto), text.as_bytes());
    }

    #[test]
    fn a_malformed_sequence_becomes_one_invalid_byte() {
        let mut bytes = GB18030.encode("主机").0.into_owned();
        bytes.extend_from_slice(b"\x81\n");
        let out = decode(&bytes, Encoding::Gb18030);
        assert_eq!(out, b"\xe4\xb8\xbb\xe6\x9c\xba\xff\n");
    }

    #[test]
    fn explicit_encoding_wins_and_utf8_passes_through() {
        let bytes = b"a\xffb".to_vec();
        assert_eq!(decode(&bytes, Encoding::Utf8), bytes);
    }
}
