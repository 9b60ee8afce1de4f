use clap::Parser;
use fashion_cnn::cli::{Cli, run};

fn main() {
    let cli = Cli::parse();
    if let Err(message) = run(cli) {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
