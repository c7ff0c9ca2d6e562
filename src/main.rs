//! `wsflow`: the command-line edge of the project.
//!
//! A thin binary over the library crates in `crates/`: it parses arguments,
//! wires the crates together and turns their errors into exit codes.
//! Business rules live in the crates, never here.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("wsflow: not wired yet")
}
