//! The review journal: every answer a person gives, appended to a text file and synced before the
//! next question, so a killed session loses nothing and a new one resumes where it stopped.
//!
//! The file is append-only text, readable in any editor and scriptable with `cut`:
//!
//! ```text
//! # fashion-cnn review journal/1
//! # suspects: runs/a/suspects.csv
//! # suspects-sha256: 3f5c…
//! # train: data/fashion-mnist-sample
//! # images: 2000
//! # fingerprint: 9a1e…
//! # classes: 0 T-shirt/top, 1 Trouser, …
//! # time  index  old  answer
//! 2026-11-22T10:15:03Z  1234  6  2
//! 2026-11-22T10:15:09Z  77  0  keep
//! ```
//!
//! The header names the suspects list (by its SHA-256, the path is for people) and the training
//! set (a [`DatasetRef`]), so answers are never replayed against another list or applied to
//! another dataset. Each answer line is tab-separated (spaces above, for the docs): the UTC time,
//! the image index, its label in the training set, and the answer: a new label `0`–`9`, `keep`,
//! `remove`, `skip` or `undo`.
//! An undo is a line of its own naming the answer it takes back (the last one still in force);
//! nothing is ever rewritten, except that a torn last line (the process died in the middle of
//! writing it) is cut off with a warning when a session reopens the file.

use super::suspects::DatasetRef;
use crate::data::write_atomic;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The first line of every journal.
pub const MAGIC: &str = "# fashion-cnn review journal/1";
const COLUMNS: &str = "# time\tindex\told\tanswer";

/// What a person said about one suspect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The true label is this class.
    Relabel(u8),
    /// The given label is right.
    Keep,
    /// Drop the image from the training set.
    Remove,
    /// Seen, but no decision: the walk moves on and the data stays as it is.
    Skip,
    /// Takes back the last answer still in force.
    Undo,
}

impl Answer {
    /// The word (or label) written in the journal's answer column.
    pub fn word(self) -> String {
        match self {
            Answer::Relabel(c) => c.to_string(),
            Answer::Keep => "keep".into(),
            Answer::Remove => "remove".into(),
            Answer::Skip => "skip".into(),
            Answer::Undo => "undo".into(),
        }
    }

    fn parse(text: &str) -> Option<Answer> {
        match text {
            "keep" => Some(Answer::Keep),
            "remove" => Some(Answer::Remove),
            "skip" => Some(Answer::Skip),
            "undo" => Some(Answer::Undo),
            digits if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse().ok().map(Answer::Relabel)
            }
            _ => None,
        }
    }
}

/// One answer line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
    /// Index of the image in the training set.
    pub index: usize,
    /// Its label in the training set.
    pub old: u8,
    pub answer: Answer,
    /// Line number in the file (1-based), for messages; 0 for an entry not yet written.
    pub line: usize,
}

impl Entry {
    /// A new entry stamped with the current time.
    pub fn now(index: usize, old: u8, answer: Answer) -> Entry {
        Entry { time: utc_now(), index, old, answer, line: 0 }
    }

    fn to_line(&self) -> String {
        format!("{}\t{}\t{}\t{}\n", self.time, self.index, self.old, self.answer.word())
    }
}

/// What the journal refers to: the suspects list and the training set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalHeader {
    /// The suspects file as the user named it (for people; moving it is fine).
    pub suspects: String,
    /// SHA-256 of the suspects CSV bytes: what identifies the list.
    pub suspects_sha256: String,
    pub dataset: DatasetRef,
    /// Written for people reading the file; not read back.
    pub class_names: Vec<String>,
}

impl JournalHeader {
    fn to_text(&self) -> String {
        let classes: Vec<String> = self.class_names.iter().enumerate().map(|(c, n)| format!("{c} {n}")).collect();
        format!(
            "{MAGIC}\n# suspects: {}\n# suspects-sha256: {}\n# train: {}\n# images: {}\n# fingerprint: {}\n\
             # classes: {}\n{COLUMNS}\n",
            self.suspects,
            self.suspects_sha256,
            self.dataset.train,
            self.dataset.images,
            self.dataset.fingerprint,
            classes.join(", ")
        )
    }

    /// Why `other` (the list being reviewed now) does not belong in this journal, if it doesn't.
    pub fn mismatch(&self, other: &JournalHeader) -> Option<String> {
        if self.dataset.fingerprint != other.dataset.fingerprint || self.dataset.images != other.dataset.images {
            return Some(format!(
                "it was written for another training set ({} images, fingerprint {}…), but {} refers to {} images with \
                 fingerprint {}…",
                self.dataset.images,
                short(&self.dataset.fingerprint),
                other.suspects,
                other.dataset.images,
                short(&other.dataset.fingerprint)
            ));
        }
        if self.suspects_sha256 != other.suspects_sha256 {
            return Some(format!(
                "it was written for another suspects list ({}, SHA-256 {}…), but {} has SHA-256 {}…",
                self.suspects,
                short(&self.suspects_sha256),
                other.suspects,
                short(&other.suspects_sha256)
            ));
        }
        None
    }
}

fn short(hex: &str) -> &str {
    &hex[..12.min(hex.len())]
}

/// A journal read back: its header, its answer lines, and a warning when a torn last line was
/// ignored.
#[derive(Debug)]
pub struct JournalContents {
    pub header: JournalHeader,
    pub entries: Vec<Entry>,
    pub warning: Option<String>,
    /// Length in bytes of the complete lines (where a torn tail starts).
    complete_len: usize,
}

/// Reads a journal without changing it. Errors name the file, the line and the problem; a last
/// line without its newline (the writer was killed) is left out with a warning.
pub fn read_journal(path: &Path) -> Result<JournalContents, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let complete_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let warning = (complete_len < bytes.len()).then(|| {
        format!(
            "{}: ignoring the torn last line '{}' (the session was stopped while writing it)",
            path.display(),
            String::from_utf8_lossy(&bytes[complete_len..]).trim()
        )
    });
    let text = std::str::from_utf8(&bytes[..complete_len])
        .map_err(|e| format!("{}: not a text file ({e})", path.display()))?;
    let at = |line: usize, problem: String| format!("{}: line {line}: {problem}", path.display());
    let mut lines = text.lines().enumerate().map(|(n, l)| (n + 1, l));
    if lines.next().map(|(_, l)| l) != Some(MAGIC) {
        return Err(at(1, format!("not a fashion-cnn review journal (expected '{MAGIC}')")));
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut entries = Vec::new();
    let mut in_header = true;
    for (n, line) in lines {
        if in_header {
            if line == COLUMNS {
                in_header = false;
                continue;
            }
            let (key, value) = line
                .strip_prefix("# ")
                .and_then(|l| l.split_once(':'))
                .ok_or_else(|| at(n, format!("expected a header line '# key: value', found '{line}'")))?;
            fields.push((key.to_string(), value.strip_prefix(' ').unwrap_or(value).to_string()));
            continue;
        }
        if line.is_empty() {
            continue;
        }
        entries.push(parse_entry(line).map_err(|problem| at(n, problem))?.with_line(n));
    }
    if in_header {
        return Err(at(text.lines().count(), format!("the header does not end with the line '{COLUMNS}'")));
    }
    let field = |key: &str| -> Result<String, String> {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("{}: the header has no '{key}' line", path.display()))
    };
    let images = field("images")?;
    let header = JournalHeader {
        suspects: field("suspects")?,
        suspects_sha256: field("suspects-sha256")?,
        dataset: DatasetRef {
            train: field("train")?,
            images: images
                .parse()
                .map_err(|_| format!("{}: header: images '{images}' is not a whole number", path.display()))?,
            fingerprint: field("fingerprint")?,
        },
        class_names: Vec::new(),
    };
    Ok(JournalContents { header, entries, warning, complete_len })
}

impl Entry {
    fn with_line(mut self, line: usize) -> Entry {
        self.line = line;
        self
    }
}

fn parse_entry(line: &str) -> Result<Entry, String> {
    let cells: Vec<&str> = line.split('\t').collect();
    if cells.len() != 4 {
        return Err(format!("{} tab-separated columns, expected 4 (time, index, old, answer)", cells.len()));
    }
    let time = cells[0].to_string();
    if time.len() != 20 || !time.ends_with('Z') {
        return Err(format!("time '{time}' is not a UTC time like 2026-11-22T10:15:03Z"));
    }
    let index = cells[1].parse().map_err(|_| format!("index '{}' is not a whole number", cells[1]))?;
    let old = cells[2].parse().map_err(|_| format!("old label '{}' is not a label", cells[2]))?;
    let answer = Answer::parse(cells[3])
        .ok_or_else(|| format!("answer '{}' is not a label, keep, remove, skip or undo", cells[3]))?;
    Ok(Entry { time, index, old, answer, line: 0 })
}

/// The answers still in force, oldest first: every answer except undo lines and the answers they
/// took back (each undo takes back the last one still in force, which must be for its index).
pub fn replay(entries: &[Entry], path: &Path) -> Result<Vec<Entry>, String> {
    let mut stack: Vec<Entry> = Vec::new();
    for e in entries {
        if e.answer != Answer::Undo {
            stack.push(e.clone());
            continue;
        }
        match stack.pop() {
            Some(undone) if undone.index == e.index => {}
            Some(undone) => {
                return Err(format!(
                    "{}: line {}: undo of image {}, but the last answer in force (line {}) is for image {}",
                    path.display(),
                    e.line,
                    e.index,
                    undone.line,
                    undone.index
                ));
            }
            None => return Err(format!("{}: line {}: undo with no answer left to take back", path.display(), e.line)),
        }
    }
    Ok(stack)
}

/// An open journal that answers are appended to.
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens the journal at `path` for `header`: creates it (header written atomically) when it
    /// does not exist, otherwise checks that it was written for the same list and dataset, cuts
    /// off a torn last line, and returns the answers already in it with any warning. The file stays
    /// locked while the journal is open, so two sessions never interleave their answers.
    pub fn open(path: &Path, header: &JournalHeader) -> Result<(Journal, Vec<Entry>, Option<String>), String> {
        if !path.exists() {
            write_atomic(path, header.to_text().as_bytes()).map_err(|e| e.to_string())?;
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open {} to append: {e}", path.display()))?;
        file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => {
                format!("{} is in use by another review session; finish that one first", path.display())
            }
            std::fs::TryLockError::Error(e) => format!("cannot lock {}: {e}", path.display()),
        })?;
        let contents = read_journal(path)?;
        if let Some(why) = contents.header.mismatch(header) {
            return Err(format!(
                "{} does not belong to {}: {why}; give another --journal to start a new one",
                path.display(),
                header.suspects
            ));
        }
        let file_len = file.metadata().map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
        if (contents.complete_len as u64) < file_len {
            // The torn bytes were never a whole answer; the next line must not be glued to them.
            file.set_len(contents.complete_len as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot cut the torn last line of {}: {e}", path.display()))?;
        }
        Ok((Journal { path: path.to_path_buf(), file }, contents.entries, contents.warning))
    }

    /// Appends one answer and syncs it to the disk before returning, so it survives a kill.
    pub fn append(&mut self, entry: &Entry) -> Result<(), String> {
        self.file
            .write_all(entry.to_line().as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| format!("cannot write to {}: {e}", self.path.display()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The current time in UTC as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    utc_text(secs)
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (the civil-from-days algorithm; no date crate).
fn utc_text(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> JournalHeader {
        JournalHeader {
            suspects: "s.csv".into(),
            suspects_sha256: "ab".repeat(32),
            dataset: DatasetRef { train: "data/x".into(), images: 10, fingerprint: "cd".repeat(32) },
            class_names: vec!["a".into(), "b".into()],
        }
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fashion-cnn-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("j.tsv")
    }

    fn remove_temp(path: &Path) {
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn utc_text_matches_known_dates() {
        assert_eq!(utc_text(0), "1970-01-01T00:00:00Z");
        // 2024-02-29 12:34:56 UTC, a leap day.
        assert_eq!(utc_text(1_709_210_096), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn answers_survive_reopening_and_a_torn_line_is_cut_off() {
        let path = temp("reopen");
        let (mut j, entries, warning) = Journal::open(&path, &header()).unwrap();
        assert!(entries.is_empty() && warning.is_none());
        j.append(&Entry::now(3, 1, Answer::Relabel(0))).unwrap();
        j.append(&Entry::now(5, 0, Answer::Remove)).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"2026-01-01T00:00:00Z\t7\t").unwrap();
        drop(f);
        let (mut j, entries, warning) = Journal::open(&path, &header()).unwrap();
        assert_eq!(
            entries.iter().map(|e| (e.index, e.answer)).collect::<Vec<_>>(),
            [(3, Answer::Relabel(0)), (5, Answer::Remove)]
        );
        assert_eq!((entries[0].line, entries[1].line), (9, 10));
        assert!(warning.unwrap().contains("ignoring the torn last line '2026-01-01T00:00:00Z\t7'"));
        j.append(&Entry::now(7, 1, Answer::Keep)).unwrap();
        let contents = read_journal(&path).unwrap();
        assert!(contents.warning.is_none());
        assert_eq!(contents.entries.len(), 3);
        assert_eq!(contents.header.dataset, header().dataset);
        remove_temp(&path);
    }

    #[test]
    fn a_second_session_on_the_same_journal_is_refused() {
        let path = temp("locked");
        let first = Journal::open(&path, &header()).unwrap();
        let e = Journal::open(&path, &header()).err().unwrap();
        assert_eq!(e, format!("{} is in use by another review session; finish that one first", path.display()));
        drop(first);
        assert!(Journal::open(&path, &header()).is_ok());
        remove_temp(&path);
    }

    #[test]
    fn a_journal_for_another_list_or_dataset_is_refused() {
        let path = temp("other");
        drop(Journal::open(&path, &header()).unwrap());
        let mut other = header();
        other.suspects_sha256 = "ef".repeat(32);
        let e = Journal::open(&path, &other).err().unwrap();
        assert!(e.contains("another suspects list"), "{e}");
        let mut other = header();
        other.dataset.fingerprint = "00".repeat(32);
        let e = Journal::open(&path, &other).err().unwrap();
        assert!(e.contains("another training set"), "{e}");
        remove_temp(&path);
    }

    #[test]
    fn undo_takes_back_the_last_answer_in_force() {
        let e = |index, answer, line| Entry { time: utc_text(0), index, old: 0, answer, line };
        let entries = [
            e(1, Answer::Keep, 1),
            e(2, Answer::Remove, 2),
            e(2, Answer::Undo, 3),
            e(1, Answer::Undo, 4),
            e(4, Answer::Skip, 5),
        ];
        let kept = replay(&entries, Path::new("j")).unwrap();
        assert_eq!(kept.iter().map(|e| e.line).collect::<Vec<_>>(), [5]);
        let wrong = [e(1, Answer::Keep, 1), e(2, Answer::Undo, 2)];
        assert_eq!(
            replay(&wrong, Path::new("j")).unwrap_err(),
            "j: line 2: undo of image 2, but the last answer in force (line 1) is for image 1"
        );
    }

    #[test]
    fn a_bad_line_is_named() {
        let path = temp("bad");
        drop(Journal::open(&path, &header()).unwrap());
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"2026-01-01T00:00:00Z\t7\t1\tmaybe\n").unwrap();
        drop(f);
        let e = read_journal(&path).unwrap_err();
        assert_eq!(e, format!("{}: line 9: answer 'maybe' is not a label, keep, remove, skip or undo", path.display()));
        remove_temp(&path);
    }
}
