//! Kaggle's CSV form of Fashion-MNIST: a header `label,pixel1,…,pixel784`, then one image per
//! row, the label first and then the pixels row by row, each a whole number 0–255.
//!
//! The pixel count in the header sets the shape: a square number N = S² gives gray S×S images,
//! N = 3·S² gives RGB S×S images stored plane after plane (what [`write_csv`] writes for CIFAR).
//! No N is both, so the header alone is never ambiguous. Line numbers in messages count from 1
//! with the header on line 1, as an editor shows them.

use std::path::Path;

use csv::{ByteRecord, ReaderBuilder, Trim};

use super::file::read_maybe_gz;
use super::{CIFAR10_CLASSES, DataError, Dataset, FASHION_CLASSES, class_names, thousands, write_atomic};

/// Reads a Kaggle-style CSV file (plain or gzipped).
pub fn read_csv(path: &Path) -> Result<Dataset, DataError> {
    let bytes = read_maybe_gz(path)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::at(
            path,
            "the file is empty: expected a header `label,pixel1,…,pixel784` and one image per line",
        ));
    }
    // Spreadsheet programs start UTF-8 exports with a byte-order mark; it is not part of `label`.
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let at_line = |line: u64, what: String| DataError::at(path, format!("line {line}: {what}"));
    // Flexible: a row with the wrong column count is ours to report, with its line.
    let mut reader = ReaderBuilder::new().has_headers(false).flexible(true).trim(Trim::All).from_reader(bytes);
    let mut records = reader.byte_records();

    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(at_line(1, format!("unreadable CSV: {e}"))),
        None => return Err(DataError::at(path, "the file is empty")),
    };
    let shape = parse_header(&header).map_err(|what| at_line(1, what))?;
    let pixels = shape.iter().product::<usize>();
    let columns = pixels + 1;

    let mut images = Vec::new();
    let mut labels = Vec::new();
    let mut lines = LineCounter::new(bytes);
    for record in records {
        let record = record.map_err(|e| at_line(lines.line_at(error_byte(&e)), format!("unreadable CSV: {e}")))?;
        let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
        if record.len() != columns {
            return Err(at_line(
                line,
                format!(
                    "{} column{}, expected {} (a label and {} pixels)",
                    thousands(record.len()),
                    if record.len() == 1 { "" } else { "s" },
                    thousands(columns),
                    thousands(pixels)
                ),
            ));
        }
        let label = match parse_whole(&record[0]) {
            Whole::Value(v) if (0..FASHION_CLASSES.len() as i64).contains(&v) => v as u8,
            Whole::Value(_) | Whole::TooLarge => {
                return Err(at_line(line, format!("label {} is outside 0–9", text(&record[0]))));
            }
            Whole::NotNumber => {
                return Err(at_line(line, format!("label `{}` is not a whole number", text(&record[0]))));
            }
        };
        labels.push(label);
        for (j, field) in record.iter().enumerate().skip(1) {
            match parse_whole(field) {
                Whole::Value(v) if (0..=255).contains(&v) => images.push(v as u8),
                Whole::Value(_) | Whole::TooLarge => {
                    return Err(at_line(
                        line,
                        format!("pixel{j} (column {}): value {} is outside 0–255", j + 1, text(field)),
                    ));
                }
                Whole::NotNumber => {
                    return Err(at_line(
                        line,
                        format!("pixel{j} (column {}): `{}` is not a whole number", j + 1, text(field)),
                    ));
                }
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::at(path, "the file has a header but no images"));
    }
    let names = if shape[0] == 3 { &CIFAR10_CLASSES } else { &FASHION_CLASSES };
    Ok(Dataset { images, labels, shape, class_names: class_names(names), source: path.display().to_string() })
}

/// The shape the header's pixel columns describe, after checking every column name.
fn parse_header(header: &ByteRecord) -> Result<[usize; 3], String> {
    let first = header.get(0).unwrap_or_default();
    if !matches!(parse_whole(first), Whole::NotNumber) {
        return Err("missing header: expected `label,pixel1,…,pixel784`, but the first line holds numbers".into());
    }
    if first != b"label" {
        return Err(format!("wrong header: the first column is `{}`, expected `label`", text(first)));
    }
    for (j, name) in header.iter().enumerate().skip(1) {
        if name != format!("pixel{j}").as_bytes() {
            return Err(format!("wrong header: column {} is `{}`, expected `pixel{j}`", j + 1, text(name)));
        }
    }
    let pixels = header.len() - 1;
    shape_of(pixels).ok_or_else(|| {
        format!("wrong header: {pixels} pixel columns are no square image (Fashion-MNIST has 784 = 28×28)")
    })
}

/// `[1, S, S]` for S² pixels, `[3, S, S]` for 3·S² pixels.
fn shape_of(pixels: usize) -> Option<[usize; 3]> {
    let side = |n: usize| {
        let s = (n as f64).sqrt().round() as usize;
        (s > 0 && s * s == n).then_some(s)
    };
    if let Some(s) = side(pixels) {
        return Some([1, s, s]);
    }
    if pixels.is_multiple_of(3) {
        return side(pixels / 3).map(|s| [3, s, s]);
    }
    None
}

enum Whole {
    Value(i64),
    /// Digits that overflow i64: certainly out of range, not "not a number".
    TooLarge,
    NotNumber,
}

fn parse_whole(field: &[u8]) -> Whole {
    let Ok(s) = std::str::from_utf8(field) else { return Whole::NotNumber };
    if let Ok(v) = s.parse::<i64>() {
        return Whole::Value(v);
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) { Whole::TooLarge } else { Whole::NotNumber }
}

/// A field as text for a message, cut short so one broken cell cannot flood the terminal.
fn text(field: &[u8]) -> String {
    let s = String::from_utf8_lossy(field);
    if s.chars().count() > 40 { format!("{}…", s.chars().take(40).collect::<String>()) } else { s.into_owned() }
}

fn error_byte(e: &csv::Error) -> u64 {
    e.position().map_or(0, |p| p.byte())
}

/// Line numbers from byte offsets, as an editor counts them: 1 + the newlines before the record.
/// The csv crate's own count, and its record start, stop short of the blank lines it skips, so
/// the offset is moved past them before counting.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter { bytes, offset: 0, line: 1 }
    }

    /// The line holding byte `at`; offsets must not decrease between calls (records come in
    /// order), which keeps the whole count linear in the file size.
    fn line_at(&mut self, at: u64) -> u64 {
        let mut at = (at as usize).clamp(self.offset, self.bytes.len());
        while at < self.bytes.len() && matches!(self.bytes[at], b'\n' | b'\r') {
            at += 1;
        }
        self.line += self.bytes[self.offset..at].iter().filter(|&&b| b == b'\n').count() as u64;
        self.offset = at;
        self.line
    }
}

/// Writes `ds` as a Kaggle-style CSV file, atomically. Images must be square, gray or RGB, so the
/// header alone tells [`read_csv`] the shape back.
pub fn write_csv(ds: &Dataset, path: &Path) -> Result<(), DataError> {
    let [c, h, w] = ds.shape;
    if h != w || (c != 1 && c != 3) || shape_of(ds.image_size()) != Some(ds.shape) {
        return Err(DataError::at(path, format!("CSV holds square gray or RGB images, not {}", ds.shape_text())));
    }
    ds.check_sizes(path)?;
    let pixels = ds.image_size();
    // Numbers 0–255 never need quoting, so rows are built directly: the csv crate would cost an
    // allocation per field on 47 million fields.
    let decimal: Vec<String> = (0..=255u16).map(|v| v.to_string()).collect();
    let mut out = Vec::with_capacity(ds.len() * pixels * 3 + pixels * 10);
    out.extend_from_slice(b"label");
    for j in 1..=pixels {
        out.extend_from_slice(format!(",pixel{j}").as_bytes());
    }
    out.push(b'\n');
    for i in 0..ds.len() {
        out.extend_from_slice(decimal[ds.labels[i] as usize].as_bytes());
        for &p in ds.image(i) {
            out.push(b',');
            out.extend_from_slice(decimal[p as usize].as_bytes());
        }
        out.push(b'\n');
    }
    write_atomic(path, &out)
}
