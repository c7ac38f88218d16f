//! Temporary stand-in until the bench module lands (helper-3 replaces this file).
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}
pub async fn run_bench(_args: &BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("bench not built yet")
}
