//! `fashion-cnn apply --journal FILE --out NEW`: the corrected training set a review decided on,
//! with its change log. The input is only read; every output file is written atomically.

use crate::data::{Dataset, Split, locate_fashion_mnist, read_path, thousands, write_atomic, write_csv, write_idx_dir};
use crate::labels::apply::{Applied, apply, changes_csv};
use crate::labels::dataset::load_checked;
use crate::labels::journal::{read_journal, replay};
use crate::labels::review::answers_text;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// The review journal (written by `fashion-cnn review`).
    #[arg(long)]
    pub journal: PathBuf,
    /// The corrected training set: a name ending in .csv gives a Kaggle CSV, anything else a
    /// directory of IDX files (with the test set copied beside it when the input has one).
    #[arg(long)]
    pub out: PathBuf,
    /// The training set to correct (default: the one the journal names; checked by its
    /// fingerprint either way).
    #[arg(long)]
    pub train: Option<PathBuf>,
}

pub fn run(args: ApplyArgs) -> Result<(), String> {
    let contents = read_journal(&args.journal)?;
    if let Some(w) = &contents.warning {
        eprintln!("warning: {w}");
    }
    let in_force = replay(&contents.entries, &args.journal)?;
    let source = match &args.train {
        Some(path) => path.clone(),
        None if contents.header.dataset.train.is_empty() => locate_fashion_mnist(None).map_err(|e| e.to_string())?,
        None => PathBuf::from(&contents.header.dataset.train),
    };
    let to_csv = args.out.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    refuse_overwriting(&source, &args.out, to_csv)?;
    let data = load_checked(&contents.header.dataset, Some(&source), &args.journal)?;
    let applied = apply(&data, &in_force, &args.journal)?;

    let (changes_path, counts_path) = if to_csv {
        write_csv(&applied.data, &args.out).map_err(|e| e.to_string())?;
        (sibling(&args.out, "changes.csv"), sibling(&args.out, "counts.json"))
    } else {
        write_idx_dir(&applied.data, &args.out, Split::Train.idx_prefix(), true).map_err(|e| e.to_string())?;
        (args.out.join("changes.csv"), args.out.join("counts.json"))
    };
    // A directory is read as a pair: with the test set beside it, `train --train NEW` just works.
    let test_copied = !to_csv && source.is_dir() && copy_test_set(&source, &args.out)?;
    write_atomic(&changes_path, changes_csv(&applied.changes, &data.class_names).as_bytes())
        .map_err(|e| e.to_string())?;
    let counts = serde_json::json!({
        "journal": args.journal.display().to_string(),
        "source": data.source,
        "output": args.out.display().to_string(),
        "class_names": data.class_names,
        "counts": applied.counts,
    });
    let text = serde_json::to_string_pretty(&counts).map_err(|e| e.to_string())?;
    write_atomic(&counts_path, format!("{text}\n").as_bytes()).map_err(|e| e.to_string())?;

    print_counts(&args.journal, &data, &applied, in_force.len());
    match (to_csv, test_copied) {
        (true, _) => println!("wrote {} (Kaggle CSV)", args.out.display()),
        (false, true) => println!("wrote {}/ (IDX, with the test set of {})", args.out.display(), source.display()),
        (false, false) => println!("wrote {}/ (IDX)", args.out.display()),
    }
    let changed = applied.changes.len();
    let rows = if changed == 1 { "row" } else { "rows" };
    println!("changes: {} ({changed} {rows}); counts: {}", changes_path.display(), counts_path.display());
    if test_copied {
        println!("retrain with: fashion-cnn train --train {}", args.out.display());
    } else {
        println!("retrain with: fashion-cnn train --train {} --test TEST", args.out.display());
    }
    Ok(())
}

/// `dir/new.csv` → `dir/new.<what>`.
fn sibling(csv: &Path, what: &str) -> PathBuf {
    let stem = csv.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    csv.with_file_name(format!("{stem}.{what}"))
}

/// The original is never written: the output may not be the input, its directory, nor an
/// existing file in that directory (the test set beside the training set, say).
fn refuse_overwriting(source: &Path, out: &Path, to_csv: bool) -> Result<(), String> {
    let real = |p: &Path| std::fs::canonicalize(p).ok();
    let Some(out_real) = real(out) else { return Ok(()) };
    let source_dir = if source.is_dir() { real(source) } else { source.parent().and_then(real) };
    let clash = if to_csv {
        real(source).as_ref() == Some(&out_real) || out_real.parent() == source_dir.as_deref()
    } else {
        source_dir.as_ref() == Some(&out_real)
    };
    if clash {
        return Err(format!(
            "--out {} would overwrite the training set being corrected or a file beside it ({}); name a new file \
             or directory",
            out.display(),
            source.display()
        ));
    }
    Ok(())
}

/// Copies the test half of the `source` directory into `out` as IDX; false when it has none.
fn copy_test_set(source: &Path, out: &Path) -> Result<bool, String> {
    match read_path(source, Split::Test) {
        Ok(test) => {
            write_idx_dir(&test, out, Split::Test.idx_prefix(), true).map_err(|e| e.to_string())?;
            Ok(true)
        }
        Err(_) => Ok(false),
    }
}

fn signed(n: i64) -> String {
    if n == 0 { "0".into() } else { format!("{n:+}") }
}

fn print_counts(journal: &Path, data: &Dataset, applied: &Applied, answers: usize) {
    let c = &applied.counts;
    println!("{}: {} in force, for {}", journal.display(), answers_text(answers), data.source);
    println!("kept        {}", thousands(c.kept));
    println!("relabelled  {}", thousands(c.relabelled));
    println!("removed     {}", thousands(c.removed));
    println!("untouched   {} ({} skipped)", thousands(c.untouched), thousands(c.skipped));
    println!("images      {} in, {} out", thousands(c.images_in), thousands(c.images_out));
    println!("{:<14}  {:>7}  {:>7}  {:>6}", "class", "before", "after", "change");
    for (k, name) in data.class_names.iter().enumerate() {
        println!(
            "{:<14}  {:>7}  {:>7}  {:>6}",
            name,
            thousands(c.before[k]),
            thousands(c.after[k]),
            signed(c.after[k] as i64 - c.before[k] as i64)
        );
    }
}
