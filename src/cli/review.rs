//! `fashion-cnn review SUSPECTS`: a person walks the suspects list and says, for each image,
//! what its label should be. Every answer goes to the journal at once (see
//! `labels::journal`); the decisions themselves are `labels::review`'s.

use crate::data::Dataset;
use crate::labels::dataset::load_checked;
use crate::labels::journal::{Answer, Journal, JournalHeader, replay};
use crate::labels::review::{Command, HELP, Session, answers_text, parse_command};
use crate::labels::suspects::{Suspect, SuspectsInfo, read_suspects};
use crate::report::{single_image_png, terminal_preview, use_color};
use clap::Args;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The suspects list written by `fashion-cnn suspects` (its .json sidecar beside it).
    pub suspects: PathBuf,
    /// The journal every answer is appended to (default: beside the list, same name with
    /// `.journal`, e.g. suspects.journal). Starting again with it resumes the review.
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Read the answers from this file, one per line (default: the keyboard, or stdin when it is
    /// not a terminal); the end of the file exits.
    #[arg(long)]
    pub answers: Option<PathBuf>,
    /// Start at this row of the table (default: the first row without an answer).
    #[arg(long)]
    pub start: Option<usize>,
    /// The training set, if it has moved since the list was made (checked by its fingerprint).
    #[arg(long)]
    pub train: Option<PathBuf>,
}

/// How many rows of the table are printed before the first question (`l` prints them all).
const TABLE_ROWS: usize = 20;

/// The journal's default place: `dir/suspects.csv` → `dir/suspects.journal`.
pub fn default_journal(suspects: &Path) -> PathBuf {
    suspects.with_extension("journal")
}

pub fn run(args: ReviewArgs) -> Result<(), String> {
    let (info, suspects) = read_suspects(&args.suspects)?;
    let csv_bytes =
        std::fs::read(&args.suspects).map_err(|e| format!("cannot read {}: {e}", args.suspects.display()))?;
    let data = load_checked(&info.dataset, args.train.as_deref(), &args.suspects)?;
    // Opened before the journal, so a mistyped --answers leaves no new journal behind.
    let (input, echo): (Box<dyn BufRead>, bool) = match &args.answers {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            (Box::new(BufReader::new(file)), true)
        }
        None => {
            let stdin = std::io::stdin();
            let interactive = stdin.is_terminal();
            (Box::new(stdin.lock()), !interactive)
        }
    };
    let journal_path = args.journal.clone().unwrap_or_else(|| default_journal(&args.suspects));
    let header = JournalHeader {
        suspects: args.suspects.display().to_string(),
        suspects_sha256: Sha256::digest(&csv_bytes).iter().map(|b| format!("{b:02x}")).collect(),
        dataset: info.dataset.clone(),
        class_names: info.class_names.clone(),
    };
    let (journal, entries, warning) = Journal::open(&journal_path, &header)?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let in_force = replay(&entries, &journal_path)?;
    if suspects.is_empty() {
        println!("{} lists no suspects: nothing to review", args.suspects.display());
        return Ok(());
    }
    let session = Session::new(suspects, in_force);
    let start = match args.start {
        Some(row) if (1..=session.len()).contains(&row) => row - 1,
        Some(row) => return Err(format!("--start {row}: the list has rows 1 to {}", session.len())),
        None => match session.first_unanswered() {
            Some(row) => row,
            None => {
                println!(
                    "all {} suspects have an answer in {}; go back to one with --start ROW, or apply them with: \
                     fashion-cnn apply --journal {} --out NEW",
                    session.len(),
                    journal_path.display(),
                    journal_path.display()
                );
                return Ok(());
            }
        },
    };
    if session.answers() > 0 || args.start.is_some() {
        println!(
            "resuming at row {}: {} already in {}",
            start + 1,
            answers_text(session.answers()),
            journal_path.display()
        );
    }
    let images = args.suspects.parent().unwrap_or(Path::new("")).join("review-images");
    let mut review = Review {
        suspects: args.suspects.clone(),
        info,
        data,
        session,
        journal,
        input,
        echo,
        images,
        color: use_color(),
    };
    print_table(&review.session, &review.info, &args.suspects, start, TABLE_ROWS);
    review.walk(start)
}

/// A review in progress: the list, its data, the journal and where the answers come from.
struct Review {
    suspects: PathBuf,
    info: SuspectsInfo,
    data: Dataset,
    session: Session,
    journal: Journal,
    input: Box<dyn BufRead>,
    /// Print each answer read, so a scripted session's output reads like a typed one.
    echo: bool,
    /// Where the enlarged pictures go, one per image.
    images: PathBuf,
    color: bool,
}

impl Review {
    fn name(&self, class: u8) -> &str {
        self.info.class_names.get(class as usize).map(String::as_str).unwrap_or("?")
    }

    /// Asks about `row`, then the next unanswered one, until exit, end of input or no row is left.
    fn walk(&mut self, start: usize) -> Result<(), String> {
        let mut row = start;
        self.show(row);
        loop {
            let Some(line) = self.read_line()? else {
                println!("end of the answers");
                return self.finish();
            };
            let command = match parse_command(&line, &self.info.class_names, self.session.len()) {
                Ok(command) => command,
                Err(message) => {
                    println!("{message}");
                    continue;
                }
            };
            match command {
                Command::Exit => return self.finish(),
                Command::Help => {
                    println!("{HELP}");
                    continue;
                }
                Command::List => {
                    print_table(&self.session, &self.info, &self.suspects, 0, usize::MAX);
                    continue;
                }
                Command::Jump(to) => row = to,
                Command::Undo => match self.session.undo() {
                    None => {
                        println!("nothing to undo");
                        continue;
                    }
                    Some((entry, undone, back)) => {
                        self.journal.append(&entry)?;
                        println!("undone: image {} {}", undone.index, self.describe(undone.old, undone.answer));
                        match back {
                            Some(back) => row = back,
                            None => continue,
                        }
                    }
                },
                Command::Answer(answer) => {
                    let recorded = self.session.answer(row, answer);
                    self.journal.append(&recorded.entry)?;
                    let e = &recorded.entry;
                    if recorded.same_label {
                        println!("{} is already its label: saved as keep", self.name(e.old));
                    } else {
                        println!("saved: image {} {}", e.index, self.describe(e.old, e.answer));
                    }
                    match self.session.next_unanswered(row) {
                        Some(next) => row = next,
                        None => {
                            println!("all {} suspects have an answer", self.session.len());
                            return self.finish();
                        }
                    }
                }
            }
            self.show(row);
        }
    }

    /// `keep (Shirt)`, `Shirt → Pullover`, `remove (Shirt)`, `skip (Shirt)`.
    fn describe(&self, old: u8, answer: Answer) -> String {
        match answer {
            Answer::Relabel(c) => format!("{} → {}", self.name(old), self.name(c)),
            other => format!("{} ({})", other.word(), self.name(old)),
        }
    }

    /// The next line of input without its newline; `None` at the end.
    fn read_line(&mut self) -> Result<Option<String>, String> {
        print!("answer (? for help)> ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        let n = self.input.read_line(&mut line).map_err(|e| format!("cannot read an answer: {e}"))?;
        if n == 0 {
            println!();
            return Ok(None);
        }
        let line = line.trim_end_matches(['\n', '\r']).to_string();
        if self.echo {
            println!("{line}");
        }
        Ok(Some(line))
    }

    /// The suspect at `row`: the image in the terminal and as a PNG, its label and the model's top 3.
    fn show(&self, row: usize) {
        let s: &Suspect = &self.session.suspects[row];
        println!("\n── row {} of {} · image {} ──", row + 1, self.session.len(), s.index);
        if s.index >= self.data.len() {
            // read_suspects checks indices against the sidecar and load_checked the sidecar
            // against the data, so this only guards against a list edited by hand.
            println!("(image {} is not in {})", s.index, self.data.source);
            return;
        }
        let pixels = self.data.image(s.index);
        print!("{}", terminal_preview(pixels, self.data.shape, self.color));
        match self.picture(s, pixels) {
            Ok(path) => println!("picture: {}", path.display()),
            Err(e) => println!("(no picture: {e})"),
        }
        println!("given:   {} {}", s.given, self.name(s.given));
        let top: Vec<String> =
            s.top(3).iter().map(|&(c, p)| format!("{c} {} {:.1}%", self.name(c), 100.0 * p)).collect();
        println!("model:   {}", top.join("  ·  "));
        if let Some(answer) = self.session.answer_at(row) {
            println!("answered: {}", self.describe(s.given, answer));
        }
    }

    /// `review-images/<index>.png`, drawn the first time the image is shown.
    fn picture(&self, s: &Suspect, pixels: &[u8]) -> Result<PathBuf, String> {
        let path = self.images.join(format!("{}.png", s.index));
        if !path.exists() {
            std::fs::create_dir_all(&self.images)
                .map_err(|e| format!("cannot create {}: {e}", self.images.display()))?;
            let caption = format!("image {}: {}", s.index, self.name(s.given));
            single_image_png(&path, pixels, self.data.shape, &caption)?;
        }
        Ok(path)
    }

    fn finish(&self) -> Result<(), String> {
        let path = self.journal.path().display();
        println!(
            "{} in force in {path}; apply them with: fashion-cnn apply --journal {path} --out NEW",
            answers_text(self.session.answers())
        );
        Ok(())
    }
}

/// The numbered table: up to `limit` rows from `from`, with each row's answer so far.
fn print_table(session: &Session, info: &SuspectsInfo, source: &Path, from: usize, limit: usize) {
    let name = |c: u8| info.class_names.get(c as usize).map(String::as_str).unwrap_or("?");
    println!("{} suspects in {} (method {}):", session.len(), source.display(), info.method);
    println!(
        "{:>5}  {:>7}  {:<16}  {:<16}  {:>8}  {:>8}  answer",
        "row", "index", "given", "suggested", "p(given)", "p(sugg.)"
    );
    let end = from.saturating_add(limit).min(session.len());
    for row in from..end {
        let s = &session.suspects[row];
        let answer = match session.answer_at(row) {
            Some(Answer::Relabel(c)) => format!("{c} {}", name(c)),
            Some(other) => other.word(),
            None => String::new(),
        };
        println!(
            "{:>5}  {:>7}  {:<16}  {:<16}  {:>8.3}  {:>8.3}  {answer}",
            row + 1,
            s.index,
            format!("{} {}", s.given, name(s.given)),
            format!("{} {}", s.suggested, name(s.suggested)),
            s.p_given(),
            s.p_suggested()
        );
    }
    if end < session.len() || from > 0 {
        println!("(rows {} to {end} of {}; type l to list them all)", from + 1, session.len());
    }
}
