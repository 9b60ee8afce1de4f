//! The CIFAR-10 reader on batch files this test writes, with a pattern that tells the red, green
//! and blue planes and every record apart.

mod common;

use common::cli::temp_dir;

use std::path::Path;

use fashion_cnn::data::cifar::{CIFAR_SHAPE, read_cifar_batches};
use fashion_cnn::data::{CIFAR10_CLASSES, Split, load_pair, read_cifar_batch, read_cifar_dir, read_path};

/// Pixel `k` (0..1024) of plane `plane` (0 R, 1 G, 2 B) of record `id`.
fn pixel(id: u8, plane: usize, k: usize) -> u8 {
    (id as usize * 7 + plane * 85 + k % 61) as u8
}

/// A batch of records with ids `ids`: label `id % 10`, then the R, G and B planes.
fn write_batch(path: &Path, ids: std::ops::Range<u8>) {
    let mut bytes = Vec::new();
    for id in ids {
        bytes.push(id % 10);
        for plane in 0..3 {
            bytes.extend((0..1024).map(|k| pixel(id, plane, k)));
        }
    }
    std::fs::write(path, bytes).expect("write batch");
}

fn check_record(image: &[u8], id: u8) {
    assert_eq!(image.len(), 3 * 32 * 32);
    for plane in 0..3 {
        for k in [0, 1, 31, 32, 600, 1023] {
            assert_eq!(image[plane * 1024 + k], pixel(id, plane, k), "record {id} plane {plane} pixel {k}");
        }
    }
}

#[test]
fn a_batch_reads_as_3x32x32_images_with_planes_in_rgb_order() {
    let dir = temp_dir("cifar-batch");
    let path = dir.join("data_batch_1.bin");
    write_batch(&path, 0..12);
    let ds = read_cifar_batch(&path).expect("batch");
    assert_eq!(ds.len(), 12);
    assert_eq!(ds.shape, [3, 32, 32]);
    assert_eq!(ds.shape, CIFAR_SHAPE);
    assert_eq!(ds.labels, vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert_eq!(ds.class_names, CIFAR10_CLASSES.to_vec());
    assert_eq!(ds.class_names[0], "airplane");
    assert_eq!(ds.class_names[9], "truck");
    for id in 0..12 {
        check_record(ds.image(id as usize), id);
    }
    // Red is plane 0: record 3's first pixel is 3·7 + 0 = 21, green 21 + 85, blue 21 + 170.
    assert_eq!([ds.image(3)[0], ds.image(3)[1024], ds.image(3)[2048]], [21, 106, 191]);
    assert_eq!(ds.class_counts(), vec![2, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert_eq!(ds.source, path.display().to_string());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_directory_gives_the_existing_training_batches_in_order_and_the_test_batch() {
    let dir = temp_dir("cifar-dir");
    // Batches 1, 2 and 4 exist; 3 and 5 do not.
    write_batch(&dir.join("data_batch_1.bin"), 0..5);
    write_batch(&dir.join("data_batch_2.bin"), 5..8);
    write_batch(&dir.join("data_batch_4.bin"), 8..10);
    write_batch(&dir.join("test_batch.bin"), 100..104);
    let (train, test) = read_cifar_dir(&dir).expect("dir");
    assert_eq!((train.len(), test.len()), (10, 4));
    assert_eq!(train.labels, (0..10).collect::<Vec<u8>>());
    for id in 0..10 {
        check_record(train.image(id as usize), id);
    }
    check_record(test.image(2), 102);
    assert_eq!(test.labels, vec![0, 1, 2, 3]);
    assert_eq!(
        train.source,
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_4.bin"]
            .map(|n| dir.join(n).display().to_string())
            .join(", ")
    );

    // `--train DIR` alone reads both splits; so does the unpacked archive's sub-directory.
    let (t, s) = load_pair(Some(&dir), None, None).expect("load_pair");
    assert_eq!((t, s), (train.clone(), test.clone()));
    let parent = temp_dir("cifar-parent");
    std::fs::rename(&dir, parent.join("cifar-10-batches-bin")).expect("move");
    let (t, _) = load_pair(Some(&parent), None, None).expect("sub-directory");
    assert_eq!(t.images, train.images);
    let _ = std::fs::remove_dir_all(&parent);
}

#[test]
fn batches_concatenate_and_a_single_bin_file_is_a_split() {
    let dir = temp_dir("cifar-files");
    let a = dir.join("data_batch_1.bin");
    let b = dir.join("data_batch_2.bin");
    write_batch(&a, 0..2);
    write_batch(&b, 2..5);
    let both = read_cifar_batches(&[a.clone(), b.clone()]).expect("two");
    assert_eq!(both.len(), 5);
    check_record(both.image(4), 4);
    let test = dir.join("test_batch.bin");
    write_batch(&test, 50..53);
    let (train, test_set) = load_pair(Some(&a), Some(&test), None).expect("files");
    assert_eq!((train.len(), test_set.len()), (2, 3));
    assert_eq!(read_path(&b, Split::Train).expect("bin").labels, vec![2, 3, 4]);
    let _ = std::fs::remove_dir_all(&dir);
}
