//! The binary, spawned as a user runs it.

mod common;

use common::cli::run_with_env as run;

#[test]
fn summary_prints_layers_shapes_and_totals() {
    let (code, out, _) = run(&["summary", "--preset", "seed002"], &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Model: \"seed002\""), "{out}");
    assert!(out.contains(" conv2d_1 (Conv2D)"), "{out}");
    assert!(out.contains("(None, 64, 11, 11)"), "{out}");
    assert!(out.contains("18,496"), "{out}");
    assert!(out.contains(" Total params: 93,322\n"), "{out}");
    assert!(out.contains(" Trainable params: 93,322\n"), "{out}");
    assert!(out.contains(" Non-trainable params: 0\n"), "{out}");
    let (_, out, _) = run(&["summary", "--preset", "mlp003"], &[]);
    assert!(out.contains(" Total params: 238,314\n"), "{out}");
    let (_, out, _) = run(&["summary", "--preset", "seed000"], &[]);
    assert!(out.contains(" Total params: 469,098\n") && out.contains(" Non-trainable params: 640\n"), "{out}");
    assert_eq!(out.lines().filter(|l| l.contains("(BatchNormalization)")).count(), 5);
}

#[test]
fn summary_of_a_custom_spec_and_its_errors() {
    let (code, out, _) = run(&["summary", "--arch", "conv16k5s2p2,relu,flatten,dense10", "--input", "3x32x32"], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("(None, 16, 16, 16)"), "{out}");
    assert!(out.contains(" Total params: 42,186\n"), "{out}"); // 16·(3·25+1) + (4096·10+10)
    let (code, out, err) = run(&["summary", "--arch", "conv32k3,relu,dense10"], &[]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        err,
        "error: invalid architecture spec at token 3 'dense10': a dense layer needs a flat input but gets 32×26×26; add 'flatten' before it\n"
    );
    let (code, _, err) = run(&["summary", "--preset", "seed999"], &[]);
    assert_eq!(code, 1);
    assert_eq!(err, "error: unknown preset 'seed999'; known presets: seed002, seed000, mlp003\n");
}

#[test]
fn a_bad_simd_override_is_refused_with_a_message() {
    let (code, _, err) = run(&["summary", "--preset", "seed002"], &[("FASHION_CNN_SIMD", "sse9")]);
    assert_eq!(code, 1);
    assert_eq!(err, "error: FASHION_CNN_SIMD=sse9 is not a kernel path; use scalar, avx2, avx512 or auto\n");
    let (code, _, _) = run(&["summary", "--preset", "seed002"], &[("FASHION_CNN_SIMD", "scalar")]);
    assert_eq!(code, 0);
}

#[test]
fn bench_prints_one_json_line_with_the_reference_keys() {
    for (extra, mode) in [(&[][..], "train"), (&["--infer"][..], "infer")] {
        let args =
            [&["bench", "--preset", "mlp003", "--batch-size", "500", "--steps", "2", "--repeats", "1"][..], extra]
                .concat();
        let (code, out, err) = run(&args, &[]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().count(), 1, "{out}");
        let line: serde_json::Value = serde_json::from_str(&out).unwrap();
        for key in ["preset", "mode", "batch", "threads", "images_per_sec", "gflops", "peak_rss_mb", "simd"] {
            assert!(line.get(key).is_some(), "no {key} in {out}");
        }
        assert_eq!(
            (line["preset"].as_str(), line["mode"].as_str(), line["batch"].as_u64()),
            (Some("mlp003"), Some(mode), Some(500))
        );
        assert!(line["images_per_sec"].as_f64().unwrap() > 0.0 && line["peak_rss_mb"].as_f64().unwrap() > 1.0);
    }
}

/// `--thread-scaling`: a line for one thread, one for `--threads`, then the median of the rounds'
/// speedups with every round's and the ratio of the two sides' fastest passes; one thread alone
/// has nothing to compare.
#[test]
fn bench_thread_scaling_times_one_thread_and_all_in_turns() {
    let args =
        ["--threads", "2", "bench", "--preset", "mlp003", "--batch-size", "500", "--steps", "2", "--repeats", "3"];
    let (code, out, err) = run(&[&args[..], &["--thread-scaling"]].concat(), &[]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!((lines[0]["threads"].as_u64(), lines[1]["threads"].as_u64()), (Some(1), Some(2)), "{out}");
    let summary = &lines[2];
    assert_eq!((summary["preset"].as_str(), summary["threads"].as_u64()), (Some("mlp003"), Some(2)), "{out}");
    let mut rounds: Vec<f64> = summary["rounds"].as_array().unwrap().iter().map(|r| r.as_f64().unwrap()).collect();
    assert_eq!(rounds.len(), 3, "{out}");
    rounds.sort_by(f64::total_cmp);
    assert_eq!(summary["speedup"].as_f64(), Some(rounds[1]), "{out}");
    assert!(rounds[0] > 0.0, "{out}");
    let fastest: Vec<f64> =
        summary["fastest_images_per_sec"].as_array().unwrap().iter().map(|r| r.as_f64().unwrap()).collect();
    for (side, (fastest, line)) in fastest.iter().zip(&lines).enumerate() {
        let median = line["images_per_sec"].as_f64().unwrap();
        assert!(*fastest >= median - 0.1, "side {side}: fastest {fastest} below the median {median}: {out}");
    }
    let ratio = summary["fastest_speedup"].as_f64().unwrap();
    assert!((ratio - fastest[1] / fastest[0]).abs() < 2e-3, "{out}");

    let (code, out, err) = run(&["--threads", "1", "bench", "--preset", "mlp003", "--thread-scaling"], &[]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(err, "error: --thread-scaling compares one thread with --threads, which must then be at least 2\n");
}
