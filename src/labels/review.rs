//! The review session without its terminal: what a typed line means, which suspect comes next,
//! and which journal entry an answer becomes. The command line (`cli/review.rs`) shows images
//! and reads lines; everything that decides lives here so it can be tested without a process.

use super::journal::{Answer, Entry};
use super::suspects::Suspect;
use std::collections::HashMap;

/// One typed line, understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// An answer about the suspect on screen (never [`Answer::Undo`]; that is [`Command::Undo`]).
    Answer(Answer),
    Undo,
    /// Show the suspect at this row (0-based).
    Jump(usize),
    /// Print the whole table.
    List,
    Help,
    Exit,
}

/// What `?` prints.
pub const HELP: &str = "\
answers:
  0-9 or a class name   the true label (case-insensitive; a unique start such as 'pull' or 'ankle' will do)
  k                     keep: the given label is right
  r                     remove the image from the training set
  s                     skip: decide later (nothing changes; the walk moves on)
  u                     undo the last answer still in force, and show its image again
  g ROW  or  #ROW       jump to a row of the table
  l                     list the table again
  ?                     this help
  E                     exit (every answer is already saved in the journal)";

/// The message for a line that is not an answer.
pub fn not_an_answer(text: &str) -> String {
    format!(
        "'{text}' is not an answer: type a label 0-9 or a class name, k (keep), r (remove), s (skip), u (undo), \
         g ROW (jump), l (list), ? (help) or E (exit)"
    )
}

/// `1 answer`, `3 answers`.
pub fn answers_text(n: usize) -> String {
    if n == 1 { "1 answer".into() } else { format!("{n} answers") }
}

/// Lower-case letters and digits only, so `T-shirt/top`, `tshirt` and `T-Shirt` meet.
fn squash(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Understands one typed line. `rows` is the length of the table, for jumps.
pub fn parse_command(line: &str, class_names: &[String], rows: usize) -> Result<Command, String> {
    let text = line.trim();
    let jump = text.strip_prefix('#').or_else(|| {
        let lower = text.strip_prefix('g').or_else(|| text.strip_prefix('G'))?;
        lower.starts_with(char::is_whitespace).then_some(lower)
    });
    if let Some(row) = jump {
        let row = row.trim();
        return match row.parse::<usize>() {
            Ok(r) if (1..=rows).contains(&r) => Ok(Command::Jump(r - 1)),
            _ => Err(format!("there is no row '{row}': rows are 1 to {rows}")),
        };
    }
    match text.to_lowercase().as_str() {
        "" => return Err(not_an_answer(text)),
        "k" | "keep" => return Ok(Command::Answer(Answer::Keep)),
        "r" | "remove" => return Ok(Command::Answer(Answer::Remove)),
        "s" | "skip" => return Ok(Command::Answer(Answer::Skip)),
        "u" | "undo" => return Ok(Command::Undo),
        "l" | "list" => return Ok(Command::List),
        "?" | "h" | "help" => return Ok(Command::Help),
        "e" | "exit" | "q" | "quit" => return Ok(Command::Exit),
        _ => {}
    }
    if let Ok(label) = text.parse::<usize>() {
        return match label < class_names.len() {
            true => Ok(Command::Answer(Answer::Relabel(label as u8))),
            false => Err(format!("there is no class {label}: labels are 0 to {}", class_names.len() - 1)),
        };
    }
    let typed = squash(text);
    let names: Vec<String> = class_names.iter().map(|n| squash(n)).collect();
    if let Some(c) = names.iter().position(|n| *n == typed) {
        return Ok(Command::Answer(Answer::Relabel(c as u8)));
    }
    let starts: Vec<usize> = (0..names.len()).filter(|&c| typed.len() >= 3 && names[c].starts_with(&typed)).collect();
    match starts[..] {
        [c] => Ok(Command::Answer(Answer::Relabel(c as u8))),
        [] => Err(not_an_answer(text)),
        _ => {
            let which: Vec<&str> = starts.iter().map(|&c| class_names[c].as_str()).collect();
            Err(format!("'{text}' could be {}: type more of the name", which.join(" or ")))
        }
    }
}

/// The suspects, the answers in force, and where the walk is.
pub struct Session {
    pub suspects: Vec<Suspect>,
    /// Answers in force, oldest first (what the journal replays to); undo pops from the end.
    in_force: Vec<Entry>,
    /// Row of each image index (the first, should a list name an image twice).
    row_of: HashMap<usize, usize>,
}

/// What an answer turned into, for the command line to report.
#[derive(Debug, PartialEq, Eq)]
pub struct Recorded {
    pub entry: Entry,
    /// True when the answer named the label the image already has, so it was recorded as keep.
    pub same_label: bool,
}

impl Session {
    /// A session over `suspects` with the answers already in force (from the journal).
    pub fn new(suspects: Vec<Suspect>, in_force: Vec<Entry>) -> Session {
        let mut row_of = HashMap::new();
        for (row, s) in suspects.iter().enumerate() {
            row_of.entry(s.index).or_insert(row);
        }
        Session { suspects, in_force, row_of }
    }

    pub fn len(&self) -> usize {
        self.suspects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.suspects.is_empty()
    }

    /// Number of answers in force.
    pub fn answers(&self) -> usize {
        self.in_force.len()
    }

    /// The last answer in force for the suspect at `row`.
    pub fn answer_at(&self, row: usize) -> Option<Answer> {
        let index = self.suspects[row].index;
        self.in_force.iter().rev().find(|e| e.index == index).map(|e| e.answer)
    }

    /// The first row without an answer, from the top.
    pub fn first_unanswered(&self) -> Option<usize> {
        (0..self.len()).find(|&r| self.answer_at(r).is_none())
    }

    /// The next row without an answer after `row`, wrapping to the top; `None` when all are answered.
    pub fn next_unanswered(&self, row: usize) -> Option<usize> {
        (row + 1..self.len()).chain(0..=row).find(|&r| self.answer_at(r).is_none())
    }

    /// Records `answer` (never Undo) for the suspect at `row`: the entry to append to the journal.
    /// Relabelling to the label it already has is recorded as keep.
    pub fn answer(&mut self, row: usize, answer: Answer) -> Recorded {
        let s = &self.suspects[row];
        let same_label = answer == Answer::Relabel(s.given);
        let answer = if same_label { Answer::Keep } else { answer };
        let entry = Entry::now(s.index, s.given, answer);
        self.in_force.push(entry.clone());
        Recorded { entry, same_label }
    }

    /// Takes back the last answer in force: the undo entry to append, and the row to show again
    /// (`None` when the image is not in this list). `None` when there is nothing to undo.
    pub fn undo(&mut self) -> Option<(Entry, Entry, Option<usize>)> {
        let undone = self.in_force.pop()?;
        let entry = Entry::now(undone.index, undone.old, Answer::Undo);
        let row = self.row_of.get(&undone.index).copied();
        Some((entry, undone, row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::FASHION_CLASSES;

    fn names() -> Vec<String> {
        FASHION_CLASSES.iter().map(|s| s.to_string()).collect()
    }

    fn suspect(index: usize, given: u8) -> Suspect {
        Suspect { rank: index, index, given, suggested: (given + 1) % 10, probs: vec![0.1; 10], score: 0.0 }
    }

    #[test]
    fn class_names_digits_and_letters_are_understood() {
        let n = names();
        let parse = |t: &str| parse_command(t, &n, 12);
        assert_eq!(parse("6"), Ok(Command::Answer(Answer::Relabel(6))));
        assert_eq!(parse(" Shirt "), Ok(Command::Answer(Answer::Relabel(6))));
        assert_eq!(parse("t-shirt/TOP"), Ok(Command::Answer(Answer::Relabel(0))));
        assert_eq!(parse("tshirt"), Ok(Command::Answer(Answer::Relabel(0))));
        assert_eq!(parse("ankle"), Ok(Command::Answer(Answer::Relabel(9))));
        assert_eq!(parse("K"), Ok(Command::Answer(Answer::Keep)));
        assert_eq!(parse("r"), Ok(Command::Answer(Answer::Remove)));
        assert_eq!(parse("s"), Ok(Command::Answer(Answer::Skip)));
        assert_eq!(parse("u"), Ok(Command::Undo));
        assert_eq!(parse("E"), Ok(Command::Exit));
        assert_eq!(parse("?"), Ok(Command::Help));
        assert_eq!(parse("g 3"), Ok(Command::Jump(2)));
        assert_eq!(parse("#12"), Ok(Command::Jump(11)));
        assert_eq!(parse("#13"), Err("there is no row '13': rows are 1 to 12".into()));
        assert_eq!(parse("10"), Err("there is no class 10: labels are 0 to 9".into()));
        assert_eq!(parse("snea"), Ok(Command::Answer(Answer::Relabel(7))));
        assert_eq!(parse("xyz"), Err(not_an_answer("xyz")));
        assert_eq!(parse("sh"), Err(not_an_answer("sh")));
        assert_eq!(parse("dres"), Ok(Command::Answer(Answer::Relabel(3))));
        assert_eq!(parse(""), Err(not_an_answer("")));
    }

    #[test]
    fn the_walk_goes_to_the_next_unanswered_row_and_undo_goes_back() {
        let mut s = Session::new(vec![suspect(10, 1), suspect(20, 2), suspect(30, 3)], Vec::new());
        assert_eq!(s.first_unanswered(), Some(0));
        let r = s.answer(0, Answer::Relabel(1));
        assert!(r.same_label);
        assert_eq!((r.entry.index, r.entry.old, r.entry.answer), (10, 1, Answer::Keep));
        s.answer(2, Answer::Remove);
        assert_eq!(s.next_unanswered(2), Some(1));
        s.answer(1, Answer::Skip);
        assert_eq!(s.next_unanswered(1), None);
        let (entry, undone, row) = s.undo().unwrap();
        assert_eq!((entry.index, entry.answer, undone.answer, row), (20, Answer::Undo, Answer::Skip, Some(1)));
        assert_eq!(s.answers(), 2);
        assert_eq!(s.answer_at(2), Some(Answer::Remove));
        assert_eq!(s.first_unanswered(), Some(1));
    }
}
