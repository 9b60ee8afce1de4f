//! The look-up order for the full set, tested through its pure parts: the search list and the
//! mirror list are arguments, so no test here touches the process environment.

mod common;

use common::cli::temp_dir;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use fashion_cnn::data::locate::{DEFAULT_MIRRORS, find_fashion_dir, locate_in, search_dirs};
use fashion_cnn::data::resolve_mirrors;

/// A directory holding copies of the sample's four IDX files (all but `skip`).
fn idx_dir(dir: &Path, skip: Option<&str>) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample");
    for name in
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    {
        if Some(name) != skip {
            std::fs::copy(sample.join(format!("{name}.gz")), dir.join(format!("{name}.gz"))).expect("copy");
        }
    }
    dir.to_path_buf()
}

#[test]
fn search_order_is_project_dir_then_env_dir_then_debian_dir() {
    assert_eq!(
        search_dirs(Some(OsStr::new("/srv/fmnist"))),
        vec![
            PathBuf::from("data/fashion-mnist"),
            PathBuf::from("/srv/fmnist"),
            PathBuf::from("/usr/share/datasets/fashion-mnist")
        ]
    );
    let without = vec![PathBuf::from("data/fashion-mnist"), PathBuf::from("/usr/share/datasets/fashion-mnist")];
    assert_eq!(search_dirs(None), without);
    assert_eq!(search_dirs(Some(OsStr::new(""))), without, "an empty FASHION_MNIST_DIR counts as unset");
}

#[test]
fn the_first_directory_with_all_four_files_wins_and_partial_ones_are_skipped() {
    let tmp = temp_dir("locate-order");
    let missing = tmp.join("missing");
    let partial = idx_dir(&tmp.join("partial"), Some("t10k-labels-idx1-ubyte"));
    let env_dir = idx_dir(&tmp.join("env"), None);
    let system = idx_dir(&tmp.join("system"), None);
    assert_eq!(find_fashion_dir(&[missing.clone(), partial.clone(), env_dir.clone(), system.clone()]), Some(env_dir));
    assert_eq!(find_fashion_dir(&[missing.clone(), partial.clone(), system.clone()]), Some(system.clone()));
    assert_eq!(find_fashion_dir(&[missing.clone(), partial.clone()]), None);
    // Found locally: no mirror is contacted (there is none to contact).
    assert_eq!(locate_in(&[partial, system.clone()], &[], &tmp.join("dest"), &[]), Ok(system));
    let e = locate_in(&[missing], &[], &tmp.join("dest"), &[]).expect_err("nothing").to_string();
    assert!(e.contains(", and no mirror was given to download from\nProvide the data in one of these ways:"), "{e}");
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn raw_and_gzipped_files_both_count() {
    let tmp = temp_dir("locate-raw");
    let dir = idx_dir(&tmp.join("mixed"), None);
    let gz = std::fs::read(dir.join("t10k-labels-idx1-ubyte.gz")).expect("read");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut raw).expect("gunzip");
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), raw).expect("write");
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte.gz")).expect("rm");
    assert_eq!(find_fashion_dir(std::slice::from_ref(&dir)), Some(dir));
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn the_mirror_argument_beats_the_environment_which_beats_the_defaults() {
    assert_eq!(resolve_mirrors(Some("http://a/"), Some("http://b/")), vec!["http://a/"]);
    assert_eq!(resolve_mirrors(None, Some("http://b/")), vec!["http://b/"]);
    assert_eq!(resolve_mirrors(None, Some("  ")), DEFAULT_MIRRORS.to_vec());
    assert_eq!(resolve_mirrors(None, None), DEFAULT_MIRRORS.to_vec());
    assert_eq!(
        DEFAULT_MIRRORS,
        [
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
        ]
    );
}
