//! `augflow bench-recipe`: the ImageNet training recipes' throughput (see
//! [`augflow_cli::recipe`]).

use augflow_cli::recipe::run as run_recipes;
use clap::Args;

use super::CliResult;

/// Arguments of `augflow bench-recipe`.
#[derive(Args, Debug, Clone)]
pub struct RecipeArgs {
    /// Number of images per epoch
    #[arg(long, default_value_t = 512)]
    pub count: usize,
    /// Image height of the decoded input images
    #[arg(long, default_value_t = 375)]
    pub height: usize,
    /// Image width of the decoded input images
    #[arg(long, default_value_t = 500)]
    pub width: usize,
    /// Images per batch
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Timed runs per measurement (the median is reported)
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Thread counts, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
    /// Print one line of JSON (`{"results": [{"row", "threads", "images_per_s"}, …]}`, rows
    /// named `augflow_<recipe>`, as scripts/peer_rows.py writes them) instead of lines
    #[arg(long)]
    pub json: bool,
}

/// Runs `bench-recipe`: one line `recipe threads images/s` per measurement.
pub fn run(a: RecipeArgs) -> CliResult {
    let rows = run_recipes(a.count, [a.height, a.width], a.batch, a.repeats, &a.threads)?;
    if a.json {
        let results: Vec<_> = (rows.iter())
            .map(|r| {
                serde_json::json!({"row": format!("augflow_{}", r.recipe),
                    "threads": r.threads, "images_per_s": r.images_per_s})
            })
            .collect();
        println!("{}", serde_json::json!({ "results": results }));
        return Ok(());
    }
    for r in rows {
        println!(
            "{:<12} threads={} {:.1} img/s",
            r.recipe, r.threads, r.images_per_s
        );
    }
    Ok(())
}
