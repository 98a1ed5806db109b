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
    /// UTF-8, with or without a BOM.
    #[cfg_attr(feature = "clap", value(name = "utf-8"))]
    Utf8,
    /// UTF-16, little-endian (what Windows calls "Unicode").
    #[cfg_attr(feature = "clap", value(name = "utf-16le"))]
    Utf16Le,
    /// UTF-16, big-endian.
    #[cfg_attr(feature = "clap", value(name = "utf-16be"))]
    Utf16Be,
    /// GB18030, the Chinese national standard; reads GBK and GB2312 too.
    Gb18030,
    /// GBK, the code page of Chinese Windows (936).
    Gbk,
}

/// How much text after the first non-ASCII byte decides between UTF-8 and GB18030: a few
/// Chinese characters in GBK are almost always invalid UTF-8, and the more text the surer.
const WINDOW: usize = 64 * 1024;

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
        let utf8 = match std::str::from_utf8(&window) {
            Ok(text) => plausible_utf8(text),
            // A sequence cut by the window's end (or the file's) is no evidence either way.
            Err(e) if e.error_len().is_none() => {
                std::str::from_utf8(&window[..e.valid_up_to()]).is_ok_and(plausible_utf8)
            }
            Err(_) => false,
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

/// Valid UTF-8 may still be GBK: now and then a GBK character's two bytes make a 2-byte
/// UTF-8 character (站, D5 BE, reads as Armenian). Chinese in UTF-8 takes 3 bytes; text whose
/// only non-ASCII characters are 2-byte ones is taken for UTF-8 when they are all letters of
/// the scripts names are written in with 2 bytes (Latin, Greek, Cyrillic), else for GBK.
fn plausible_utf8(text: &str) -> bool {
    let mut foreign = text.chars().filter(|c| !c.is_ascii());
    text.chars().any(|c| c.len_utf8() >= 3)
        || foreign.all(|c| c.is_alphabetic() && ('\u{c0}'..='\u{52f}').contains(&c))
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
    fn gbk_that_happens_to_be_valid_utf8_is_still_gbk() {
        let gbk = GBK.encode("name,host\n站,10.0.0.1\n").0.into_owned();
        assert!(std::str::from_utf8(&gbk).is_ok());
        assert_eq!(
            decode(&gbk, Encoding::Auto),
            "name,host\n站,10.0.0.1\n".as_bytes()
        );
        let names = "José,Ελένη,Дмитрий\n";
        assert_eq!(decode(names.as_bytes(), Encoding::Auto), names.as_bytes());
    }

    #[test]
    fn explicit_encoding_wins_and_utf8_passes_through() {
        let bytes = b"a\xffb".to_vec();
        assert_eq!(decode(&bytes, Encoding::Utf8), bytes);
    }
}
