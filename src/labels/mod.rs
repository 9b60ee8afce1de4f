//! Finding and fixing mislabelled training images: rank suspects, review them with a person,
//! keep every answer in a journal, and write a corrected training set.
//!
//! `suspects` holds the file both halves share: the ranked list (`suspects.csv`) and its
//! sidecar (`suspects.json`) that names the dataset the indices refer to. `confident` is
//! confident learning over out-of-sample probabilities, `detect` turns a run into a ranked list
//! by one of the methods, and `noise` flips known labels and scores detectors against them.
//! `journal` is the append-only record of a review, `review` the session's decisions (what a
//! typed line means, which suspect comes next), `apply` turns a journal into a corrected
//! training set, and `dataset` loads the training set a list or journal refers to, checked by
//! its fingerprint.

pub mod apply;
pub mod confident;
pub mod dataset;
pub mod detect;
pub mod journal;
pub mod noise;
pub mod review;
pub mod suspects;
