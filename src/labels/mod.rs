//! Finding and fixing mislabelled training images: rank suspects, review them with a person,
//! keep every answer in a journal, and write a corrected training set.
//!
//! `suspects` holds the file both halves share: the ranked list (`suspects.csv`) and its
//! sidecar (`suspects.json`) that names the dataset the indices refer to.

pub mod suspects;
