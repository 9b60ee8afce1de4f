//! Turning a review journal into a corrected training set: removed images dropped, relabelled
//! images carrying their new label, every other image unchanged and in its order.
//!
//! Only the decisions count: for each image, the last answer still in force that is not a skip
//! (a skip means "not now", so it leaves an earlier decision standing).

use super::journal::{Answer, Entry};
use crate::data::Dataset;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The decision for each image that has one, by index: keep, remove or a new label.
pub fn decisions(in_force: &[Entry]) -> BTreeMap<usize, Entry> {
    let mut out = BTreeMap::new();
    for e in in_force.iter().filter(|e| e.answer != Answer::Skip && e.answer != Answer::Undo) {
        out.insert(e.index, e.clone());
    }
    out
}

/// One changed image, a row of `changes.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    pub index: usize,
    pub old: u8,
    /// `None`: removed.
    pub new: Option<u8>,
}

/// The figures `apply` prints and writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub images_in: usize,
    pub images_out: usize,
    /// Reviewed and found right.
    pub kept: usize,
    pub relabelled: usize,
    pub removed: usize,
    /// Reviewed, skipped, and never decided.
    pub skipped: usize,
    /// No decision: never reviewed, or skipped.
    pub untouched: usize,
    /// Images per class before and after.
    pub before: Vec<usize>,
    pub after: Vec<usize>,
}

/// The corrected set, its changes (in index order) and the counts.
pub struct Applied {
    pub data: Dataset,
    pub changes: Vec<ChangeRow>,
    pub counts: Counts,
}

/// Applies the answers in force (from [`super::journal::replay`]) to `data`. Every decision is
/// checked against the data: the index must exist and its label must be the one the reviewer saw.
pub fn apply(data: &Dataset, in_force: &[Entry], journal: &Path) -> Result<Applied, String> {
    let classes = data.class_names.len();
    let decided = decisions(in_force);
    for e in in_force {
        let at = |problem: String| format!("{}: line {}: {problem}", journal.display(), e.line);
        let Some(&label) = data.labels.get(e.index) else {
            return Err(at(format!("image {} is beyond the {} images of {}", e.index, data.len(), data.source)));
        };
        if label != e.old {
            return Err(at(format!(
                "image {} has label {label} in {}, but the journal says {}: the journal is for another dataset",
                e.index, data.source, e.old
            )));
        }
        if let Answer::Relabel(c) = e.answer
            && c as usize >= classes
        {
            return Err(at(format!("label {c} is not a class (0 to {})", classes - 1)));
        }
    }
    let mut keep_indices = Vec::with_capacity(data.len());
    let mut changes = Vec::new();
    let (mut kept, mut relabelled, mut removed) = (0, 0, 0);
    for i in 0..data.len() {
        match decided.get(&i).map(|e| e.answer) {
            Some(Answer::Remove) => {
                removed += 1;
                changes.push(ChangeRow { index: i, old: data.labels[i], new: None });
                continue;
            }
            Some(Answer::Relabel(c)) => {
                relabelled += 1;
                changes.push(ChangeRow { index: i, old: data.labels[i], new: Some(c) });
            }
            Some(_) => kept += 1,
            None => {}
        }
        keep_indices.push(i);
    }
    let mut out = data.subset(&keep_indices);
    // `subset` keeps order, so the changes (in index order) meet their images in order.
    let mut relabels = changes.iter().filter_map(|c| c.new.map(|n| (c.index, n))).peekable();
    for (k, &i) in keep_indices.iter().enumerate() {
        if let Some(&(_, new)) = relabels.peek().filter(|(index, _)| *index == i) {
            out.labels[k] = new;
            relabels.next();
        }
    }
    let reviewed: std::collections::BTreeSet<usize> = in_force.iter().map(|e| e.index).collect();
    let skipped = reviewed.iter().filter(|i| !decided.contains_key(i)).count();
    let counts = Counts {
        images_in: data.len(),
        images_out: out.len(),
        kept,
        relabelled,
        removed,
        skipped,
        untouched: data.len() - kept - relabelled - removed,
        before: data.class_counts(),
        after: out.class_counts(),
    };
    Ok(Applied { data: out, changes, counts })
}

/// `changes.csv`: `index,old,new,old_name,new_name`, with `removed` for both new columns of a
/// removed image.
pub fn changes_csv(changes: &[ChangeRow], class_names: &[String]) -> String {
    let name = |c: u8| class_names.get(c as usize).map(String::as_str).unwrap_or("?").to_string();
    let mut text = String::from("index,old,new,old_name,new_name\n");
    for c in changes {
        let (new, new_name) = match c.new {
            Some(n) => (n.to_string(), name(n)),
            None => ("removed".into(), "removed".into()),
        };
        text += &format!("{},{},{new},{},{new_name}\n", c.index, c.old, name(c.old));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Dataset {
        Dataset {
            images: (0..6).collect(),
            labels: vec![0, 1, 2, 0, 1, 2],
            shape: [1, 1, 1],
            class_names: vec!["a".into(), "b".into(), "c".into()],
            source: "six".into(),
        }
    }

    fn entry(index: usize, old: u8, answer: Answer, line: usize) -> Entry {
        Entry { time: "2026-01-01T00:00:00Z".into(), index, old, answer, line }
    }

    #[test]
    fn removed_images_go_relabelled_ones_change_and_the_rest_stay_in_order() {
        let in_force = [
            entry(4, 1, Answer::Relabel(0), 9),
            entry(1, 1, Answer::Remove, 10),
            entry(2, 2, Answer::Keep, 11),
            entry(3, 0, Answer::Skip, 12),
            entry(5, 2, Answer::Relabel(1), 13),
            entry(5, 2, Answer::Skip, 14),
        ];
        let a = apply(&data(), &in_force, Path::new("j")).unwrap();
        assert_eq!(a.data.images, [0, 2, 3, 4, 5]);
        assert_eq!(a.data.labels, [0, 2, 0, 0, 1]);
        assert_eq!(
            a.counts,
            Counts {
                images_in: 6,
                images_out: 5,
                kept: 1,
                relabelled: 2,
                removed: 1,
                skipped: 1,
                untouched: 2,
                before: vec![2, 2, 2],
                after: vec![3, 1, 1],
            }
        );
        assert_eq!(
            changes_csv(&a.changes, &data().class_names),
            "index,old,new,old_name,new_name\n1,1,removed,b,removed\n4,1,0,b,a\n5,2,1,c,b\n"
        );
    }

    #[test]
    fn a_journal_that_disagrees_with_the_data_is_refused() {
        let e = apply(&data(), &[entry(2, 1, Answer::Keep, 9)], Path::new("j")).err().unwrap();
        assert_eq!(
            e,
            "j: line 9: image 2 has label 2 in six, but the journal says 1: the journal is for another dataset"
        );
        let e = apply(&data(), &[entry(6, 1, Answer::Keep, 9)], Path::new("j")).err().unwrap();
        assert_eq!(e, "j: line 9: image 6 is beyond the 6 images of six");
        let e = apply(&data(), &[entry(0, 0, Answer::Relabel(3), 9)], Path::new("j")).err().unwrap();
        assert_eq!(e, "j: line 9: label 3 is not a class (0 to 2)");
    }
}
