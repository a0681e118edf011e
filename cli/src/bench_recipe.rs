//! `augflow bench-recipe`: the ImageNet training recipes' throughput (see
//! [`augflow_cli::recipe`]).

use augflow_cli::recipe::run as run_recipes;
use clap::Args;

use super::CliResult;
use super::bench::Timing;

/// Arguments of `augflow bench-recipe`.
#[derive(Args, Debug, Clone)]
pub struct RecipeArgs {
    #[command(flatten)]
    pub timing: Timing,
    /// Image height of the decoded input images
    #[arg(long, default_value_t = 375)]
    pub height: usize,
    /// Image width of the decoded input images
    #[arg(long, default_value_t = 500)]
    pub width: usize,
    /// The recipes to measure, comma-separated (`imagenet`, `randaugment`; all when not given)
    #[arg(long, value_delimiter = ',')]
    pub recipes: Vec<String>,
    /// Print one line of JSON (`{"results": [{"row", "threads", "images_per_s"}, …]}`, rows
    /// named `augflow_<recipe>`, as scripts/peer_rows.py writes them) instead of lines
    #[arg(long)]
    pub json: bool,
}

/// Runs `bench-recipe`: one line `recipe threads images/s` per measurement.
pub fn run(a: RecipeArgs) -> CliResult {
    let t = &a.timing;
    let rows = run_recipes(
        t.count,
        [a.height, a.width],
        t.batch,
        t.repeats,
        &t.threads,
        &a.recipes,
    )?;
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
