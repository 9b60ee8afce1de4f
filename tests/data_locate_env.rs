//! `FASHION_MNIST_DIR` as the real entry points read it. Environment variables are process-wide,
//! so this file holds exactly one test and it is the only code in this test binary that reads or
//! writes the environment.

use std::path::{Path, PathBuf};

use fashion_cnn::data::idx::holds_official_files;
use fashion_cnn::data::locate::{DEFAULT_DIR, DIR_ENV};
use fashion_cnn::data::{load_pair, locate_fashion_mnist};

#[test]
fn fashion_mnist_dir_is_used_when_the_project_directory_has_no_data() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist-sample");
    // SAFETY: the only test in this binary, so no other thread reads the environment meanwhile.
    unsafe { std::env::set_var(DIR_ENV, &sample) };
    // Tests run in the package root; a developer who downloaded the full set there gets it first,
    // as the look-up order says.
    let expected =
        if holds_official_files(Path::new(DEFAULT_DIR)) { PathBuf::from(DEFAULT_DIR) } else { sample.clone() };
    assert_eq!(locate_fashion_mnist(None), Ok(expected.clone()));
    if expected == sample {
        let (train, test) = load_pair(None, None, None).expect("default load");
        assert_eq!((train.len(), test.len()), (2_000, 500));
    }
    // SAFETY: as above.
    unsafe { std::env::remove_var(DIR_ENV) };
}
