//! The download path against a tiny HTTP server on 127.0.0.1 that this test starts, serving the
//! sample's `.gz` files. The server answers a bounded number of requests for a bounded time and
//! then stops by itself.
//!
//! The expected sums are those of the decompressed sample files, from `data/README.md`.

mod common;

use common::cli::{sample_dir, temp_dir};

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fashion_cnn::data::download::sha256_hex;
use fashion_cnn::data::locate::locate_in;
use fashion_cnn::data::{download_fashion_mnist, read_idx_dir};

const SAMPLE_SHA256: [(&str, &str); 4] = [
    ("train-images-idx3-ubyte", "a724cd72799a6b1c3a81c4263865a75a73bb6473673b3394e34adf222930f19e"),
    ("train-labels-idx1-ubyte", "4738fd437c0f8d6498ae7f6f5c86f1cc3c878d4116ff169fc5635bd6847899cc"),
    ("t10k-images-idx3-ubyte", "8fdf02ada67d92f4db5ba3c2f6c5b1cc6186ba6e0efd4914661e4389e103b81e"),
    ("t10k-labels-idx1-ubyte", "9c71808b3a0ebfc091442c0009a7aa35be2d9622bf6aaf6891ce9a0088e96c07"),
];

/// The sample's four `.gz` files by URL path (`/train-images-idx3-ubyte.gz`).
fn sample_files() -> HashMap<String, Vec<u8>> {
    SAMPLE_SHA256
        .iter()
        .map(|(name, _)| {
            let bytes = std::fs::read(sample_dir().join(format!("{name}.gz"))).expect("sample file");
            (format!("/{name}.gz"), bytes)
        })
        .collect()
}

/// A server on 127.0.0.1 answering GET requests from `files` (404 for anything else).
struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Serves at most 50 connections, for at most 60 seconds, then stops by itself.
    fn start(files: HashMap<String, Vec<u8>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}/fashion/", listener.local_addr().expect("addr"));
        let requests = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (requests.clone(), paths.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut served = 0;
            while served < 50 && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        served += 1;
                        if let Some(path) = answer(stream, &files) {
                            count.fetch_add(1, Ordering::SeqCst);
                            seen.lock().expect("lock").push(path);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server { url, requests, paths }
    }
}

/// Reads one request and answers it; returns the path asked for.
fn answer(mut stream: TcpStream, files: &HashMap<String, Vec<u8>>) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1)?.to_string();
    let key = path.strip_prefix("/fashion").unwrap_or(&path);
    let response = match files.get(key) {
        Some(body) => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        }
        None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    stream.write_all(&response).ok()?;
    stream.flush().ok()?;
    Some(path)
}

/// `bytes` gunzipped, one byte changed, and gzipped again: a valid gzip file with wrong content.
fn corrupt_content(gz: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).expect("gunzip");
    raw[5000] ^= 0x40;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&raw).expect("gzip");
    enc.finish().expect("gzip")
}

#[test]
fn download_with_the_right_checksums_writes_the_four_files_and_they_read_back() {
    let server = Server::start(sample_files());
    let tmp = temp_dir("download-ok");
    let dest = tmp.join("fashion-mnist");
    download_fashion_mnist(&server.url, &dest, &SAMPLE_SHA256).expect("download");
    assert_eq!(server.requests.load(Ordering::SeqCst), 4);
    assert_eq!(
        *server.paths.lock().expect("lock"),
        SAMPLE_SHA256.map(|(n, _)| format!("/fashion/{n}.gz")).to_vec(),
        "each file fetched once, from the mirror's folder"
    );
    for (name, _) in SAMPLE_SHA256 {
        let got = std::fs::read(dest.join(format!("{name}.gz"))).expect("downloaded");
        assert!(got == std::fs::read(sample_dir().join(format!("{name}.gz"))).expect("sample"), "{name}");
    }
    let train = read_idx_dir(&dest, "train").expect("read");
    assert_eq!((train.len(), train.class_counts()), (2_000, vec![200; 10]));

    // Files already there with the right sums are not fetched again.
    download_fashion_mnist(&server.url, &dest, &SAMPLE_SHA256).expect("again");
    assert_eq!(server.requests.load(Ordering::SeqCst), 4);
    let _ = std::fs::remove_dir_all(dest.parent().expect("parent"));
}

#[test]
fn a_download_whose_checksum_does_not_match_is_refused_and_not_kept() {
    let mut files = sample_files();
    let key = "/t10k-images-idx3-ubyte.gz".to_string();
    let bad = corrupt_content(&files[&key]);
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&bad[..]).read_to_end(&mut raw).expect("gunzip");
    let found = sha256_hex(&raw);
    files.insert(key, bad);
    let server = Server::start(files);
    let dest = temp_dir("download-corrupt");
    let e = download_fashion_mnist(&server.url, &dest, &SAMPLE_SHA256).expect_err("corrupted").to_string();
    assert_eq!(
        e,
        format!(
            "{}t10k-images-idx3-ubyte.gz: checksum mismatch: the SHA-256 of the decompressed t10k-images-idx3-ubyte is \
             {found}, expected 8fdf02ada67d92f4db5ba3c2f6c5b1cc6186ba6e0efd4914661e4389e103b81e; the download is \
             corrupted or not the official file, and was not kept",
            server.url
        )
    );
    // The two training files came first and are good; the corrupted one is nowhere.
    let mut kept: Vec<String> =
        std::fs::read_dir(&dest).expect("list").map(|e| e.expect("e").file_name().to_string_lossy().into()).collect();
    kept.sort();
    assert_eq!(kept, vec!["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]);
    let _ = std::fs::remove_dir_all(&dest);
}

#[test]
fn broken_gzip_and_missing_files_are_refused_with_the_url() {
    let mut files = sample_files();
    let key = "/train-images-idx3-ubyte.gz".to_string();
    let mut broken = files[&key].clone();
    let middle = broken.len() / 2;
    broken[middle] ^= 0xff;
    files.insert(key, broken);
    files.remove("/train-labels-idx1-ubyte.gz");
    let server = Server::start(files);
    let dest = temp_dir("download-broken");
    let e = download_fashion_mnist(&server.url, &dest, &SAMPLE_SHA256[..1]).expect_err("broken gzip").to_string();
    let prefix = format!("{}train-images-idx3-ubyte.gz: broken gzip data (", server.url);
    assert!(e.starts_with(&prefix) && e.ends_with("; not kept"), "{e}");
    let e = download_fashion_mnist(&server.url, &dest, &SAMPLE_SHA256[1..2]).expect_err("404").to_string();
    assert_eq!(e, format!("{}train-labels-idx1-ubyte.gz: the server answered HTTP 404", server.url));
    assert_eq!(std::fs::read_dir(&dest).expect("list").count(), 0);
    let _ = std::fs::remove_dir_all(&dest);
}

#[test]
fn locate_downloads_when_no_directory_holds_the_files_and_lists_the_ways_when_that_fails() {
    let tmp = temp_dir("locate-download");
    let empty = tmp.join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let dest = tmp.join("fashion-mnist");

    // A mirror that refuses connections: bind a port, then free it.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/", l.local_addr().expect("addr"))
    };
    let e = locate_in(std::slice::from_ref(&empty), std::slice::from_ref(&dead), &dest, &SAMPLE_SHA256)
        .expect_err("nothing")
        .to_string();
    let first_line = e.lines().next().expect("line");
    assert_eq!(
        first_line,
        format!(
            "Fashion-MNIST not found: no directory of {}/ holds the four files train-images-idx3-ubyte.gz, \
             train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, and the download failed:",
            empty.display()
        )
    );
    assert!(
        e.lines().nth(1).expect("line").starts_with(&format!("  {dead}train-images-idx3-ubyte.gz: download failed")),
        "{e}"
    );
    let ways: Vec<&str> = e.lines().skip(2).collect();
    assert_eq!(
        ways,
        vec![
            "Provide the data in one of these ways:",
            "  - name the files: --train FILE --test FILE (Kaggle CSV or IDX), or --train DIR",
            "  - put the four official files in data/fashion-mnist/",
            "  - set FASHION_MNIST_DIR to a directory holding them",
            "  - apt-get install dataset-fashion-mnist (Debian/Ubuntu, works offline)",
            "  - download from another mirror: --mirror URL (or FASHION_MNIST_MIRROR=URL)",
        ]
    );

    // The dead mirror first, then a working one: the second is used.
    let server = Server::start(sample_files());
    let found =
        locate_in(std::slice::from_ref(&empty), &[dead, server.url.clone()], &dest, &SAMPLE_SHA256).expect("download");
    assert_eq!(found, dest);
    assert_eq!(read_idx_dir(&found, "t10k").expect("read").len(), 500);
    let _ = std::fs::remove_dir_all(&tmp);
}
