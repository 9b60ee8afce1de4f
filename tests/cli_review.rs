//! `review`: scripted sessions (answers file and stdin) give the exact journal; a session killed
//! with SIGKILL loses no answer and resumes at the next suspect; a journal for another list or
//! dataset is refused.

mod common;

use common::cli::{run, temp_dir};
use common::labels::{journal_answers, name, sample_train, write_sample_suspects};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The row headers printed, in order: (row, image index).
fn rows_shown(stdout: &str) -> Vec<(usize, usize)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("── row "))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words[0].parse().unwrap(), words[5].parse().unwrap())
        })
        .collect()
}

#[test]
fn scripted_answers_give_the_exact_journal() {
    let dir = temp_dir("review-script");
    let indices = [5, 17, 42, 100, 7, 250];
    let csv = write_sample_suspects(&dir, &indices);
    let labels = sample_train().labels;
    let g = |k: usize| labels[indices[k]];
    let by_name = (g(1) + 3) % 10;
    let by_digit = (g(2) + 1) % 10;
    let answers = [
        "k".to_string(),
        "bogus".into(),
        name(by_name).to_uppercase(),
        by_digit.to_string(),
        "u".into(),
        "?".into(),
        "r".into(),
        g(3).to_string(),
        "s".into(),
        "#1".into(),
        "12".into(),
        "r".into(),
        "E".into(),
    ];
    let answers_file = dir.join("answers.txt");
    std::fs::write(&answers_file, answers.join("\n") + "\n").unwrap();
    let (code, stdout, stderr) = run(&["review", csv.to_str().unwrap(), "--answers", answers_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");

    let journal = dir.join("suspects.journal");
    assert_eq!(
        journal_answers(&journal),
        [
            format!("5\t{}\tkeep", g(0)),
            format!("17\t{}\t{by_name}", g(1)),
            format!("42\t{}\t{by_digit}", g(2)),
            format!("42\t{}\tundo", g(2)),
            format!("42\t{}\tremove", g(2)),
            format!("100\t{}\tkeep", g(3)),
            format!("7\t{}\tskip", g(4)),
            format!("5\t{}\tremove", g(0)),
        ]
    );
    let header: Vec<String> = std::fs::read_to_string(&journal).unwrap().lines().take(8).map(String::from).collect();
    assert_eq!(header[0], "# fashion-cnn review journal/1");
    assert_eq!(header[1], format!("# suspects: {}", csv.display()));
    assert_eq!(header[3], format!("# train: {}", common::cli::sample_dir().display()));
    assert_eq!(header[4], "# images: 2000");
    assert_eq!(header[7], "# time\tindex\told\tanswer");

    // Walked in order, back to row 3 after the undo, to row 1 on the jump, then on to row 6, the
    // only one left without an answer.
    assert_eq!(
        rows_shown(&stdout),
        [(1, 5), (2, 17), (3, 42), (4, 100), (3, 42), (4, 100), (5, 7), (6, 250), (1, 5), (6, 250)]
    );
    let lines: Vec<&str> = stdout.lines().collect();
    for expected in [
        "answer (? for help)> bogus".to_string(),
        "'bogus' is not an answer: type a label 0-9 or a class name, k (keep), r (remove), s (skip), u (undo), \
         g ROW (jump), l (list), ? (help) or E (exit)"
            .into(),
        "there is no class 12: labels are 0 to 9".into(),
        format!("{} is already its label: saved as keep", name(g(3))),
        format!("undone: image 42 {} → {}", name(g(2)), name(by_digit)),
        format!("saved: image 17 {} → {}", name(g(1)), name(by_name)),
        "  g ROW  or  #ROW       jump to a row of the table".into(),
        format!("answered: keep ({})", name(g(0))),
        format!(
            "6 answers in force in {}; apply them with: fashion-cnn apply --journal {} --out NEW",
            journal.display(),
            journal.display()
        ),
        format!(
            "model:   {} {} 60.0%  ·  {} {} 30.0%  ·  {} {} 10.0%",
            (g(0) + 1) % 10,
            name((g(0) + 1) % 10),
            g(0),
            name(g(0)),
            (g(0) + 2) % 10,
            name((g(0) + 2) % 10)
        ),
        format!("given:   {} {}", g(0), name(g(0))),
    ] {
        assert!(lines.contains(&expected.as_str()), "missing line '{expected}' in:\n{stdout}");
    }
    // The bad answer re-prompts for the same image: no image is shown between it and the next answer.
    let bad = lines.iter().position(|l| l.starts_with("'bogus'")).unwrap();
    assert_eq!(lines[bad + 1], format!("answer (? for help)> {}", name(by_name).to_uppercase()));
    // One picture per image shown, enlarged.
    let (w, h) = image::image_dimensions(dir.join("review-images/42.png")).unwrap();
    assert!(w >= 280 && h >= 280, "{w}×{h}");
    assert!(dir.join("review-images/250.png").is_file());
}

#[test]
fn answers_from_stdin_and_a_second_session_resumes() {
    let dir = temp_dir("review-stdin");
    let indices = [3, 9];
    let csv = write_sample_suspects(&dir, &indices);
    let labels = sample_train().labels;
    let relabel = (labels[3] + 5) % 10;
    let session = |input: String| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fashion-cnn"))
            .args(["review", csv.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // The end of stdin exits like E.
    let first = session(format!("{}\n", name(relabel).to_lowercase()));
    assert!(first.contains("\nend of the answers\n"), "{first}");
    assert!(!first.contains("resuming"), "{first}");
    let second = session("k\n".into());
    let journal = dir.join("suspects.journal");
    assert!(second.starts_with(&format!("resuming at row 2: 1 answer already in {}\n", journal.display())), "{second}");
    assert!(second.contains("all 2 suspects have an answer"), "{second}");
    assert_eq!(journal_answers(&journal), [format!("3\t{}\t{relabel}", labels[3]), format!("9\t{}\tkeep", labels[9])]);
    // Nothing left: a third session says so and asks nothing.
    let third = session(String::new());
    assert!(third.starts_with("all 2 suspects have an answer in "), "{third}");
}

fn wait_for_answers(journal: &Path, n: usize) {
    let start = Instant::now();
    while !journal.exists() || journal_answers(journal).len() < n {
        assert!(start.elapsed() < Duration::from_secs(30), "the journal never reached {n} answers");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_session_loses_no_answer_and_resumes_at_the_next_suspect() {
    let dir = temp_dir("review-kill");
    let indices = [11, 22, 33, 44, 55, 66];
    let csv = write_sample_suspects(&dir, &indices);
    let journal = dir.join("suspects.journal");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fashion-cnn"))
        .args(["review", csv.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for (n, answer) in ["k", "r", "s"].iter().enumerate() {
        stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        wait_for_answers(&journal, n + 1);
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    drop(stdin);
    let labels = sample_train().labels;
    let before = [
        format!("11\t{}\tkeep", labels[11]),
        format!("22\t{}\tremove", labels[22]),
        format!("33\t{}\tskip", labels[33]),
    ];
    assert_eq!(journal_answers(&journal), before);

    // As if killed in the middle of writing a fourth line.
    std::fs::OpenOptions::new().append(true).open(&journal).unwrap().write_all(b"2026-11-22T10:00:00Z\t44").unwrap();
    let answers = dir.join("answers.txt");
    std::fs::write(&answers, "r\nE\n").unwrap();
    let (code, stdout, stderr) = run(&["review", csv.to_str().unwrap(), "--answers", answers.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "warning: {}: ignoring the torn last line '2026-11-22T10:00:00Z\t44' (the session was stopped while \
             writing it)\n",
            journal.display()
        )
    );
    assert!(
        stdout.starts_with(&format!("resuming at row 4: 3 answers already in {}\n", journal.display())),
        "{stdout}"
    );
    assert_eq!(rows_shown(&stdout), [(4, 44), (5, 55)]);
    let mut after = before.to_vec();
    after.push(format!("44\t{}\tremove", labels[44]));
    assert_eq!(journal_answers(&journal), after);
}

#[test]
fn a_journal_for_another_list_or_dataset_is_refused() {
    let dir = temp_dir("review-other");
    let csv = write_sample_suspects(&dir, &[1, 2]);
    let journal = dir.join("suspects.journal");
    let (code, _, stderr) = run(&["review", csv.to_str().unwrap(), "--answers", "/dev/null"]);
    assert_eq!(code, 0, "{stderr}");

    let other_dir = dir.join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other = write_sample_suspects(&other_dir, &[2, 1]);
    let (code, _, stderr) =
        run(&["review", other.to_str().unwrap(), "--journal", journal.to_str().unwrap(), "--answers", "/dev/null"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(&format!(
            "error: {} does not belong to {}: it was written for another suspects list ({}, SHA-256 ",
            journal.display(),
            other.display(),
            csv.display()
        )) && stderr.ends_with("give another --journal to start a new one\n"),
        "{stderr}"
    );

    // A list whose sidecar names another dataset: the images would be the wrong ones.
    let sidecar = other_dir.join("suspects.json");
    let text = std::fs::read_to_string(&sidecar).unwrap().replace("\"images\": 2000", "\"images\": 1999");
    std::fs::write(&sidecar, text).unwrap();
    let (code, _, stderr) = run(&["review", other.to_str().unwrap(), "--answers", "/dev/null"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(&format!("error: {} refers to another training set: 1999 images", other.display())),
        "{stderr}"
    );
}
