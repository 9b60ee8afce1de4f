use clap::Parser;
use fashion_cnn::cli::{Cli, run};

fn main() {
    // Die quietly when the reader goes away (`fashion-cnn eval run | head`), as Unix tools do,
    // instead of panicking on a failed print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    fashion_cnn::engine::parallel::keep_freed_memory();
    let cli = Cli::parse();
    if let Err(message) = run(cli) {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
