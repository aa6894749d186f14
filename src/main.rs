//! The `spacedav` binary; everything it does is in [`spacedav::cli`].

fn main() -> std::process::ExitCode {
    spacedav::cli::run()
}
