//! How many `Store::update` calls per second a `SqlStore` commits: concurrent
//! tasks incrementing counters, each update a read, the closure and a write.
//!
//! ```text
//! cargo run --release -p starmodel-sql --example update_throughput [URL] [TASKS] [UPDATES_PER_TASK]
//! ```
//!
//! Without a URL it uses a SQLite file in a temporary directory; for PostgreSQL or
//! MySQL build with `--features postgres` / `--features mysql` and pass the URL of a
//! scratch database (the example creates and fills a table `bench_counter`).

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use starmodel_core::entity::{Field, FieldType, Schema};
use starmodel_core::{EntityKey, Mutation, Store};
use starmodel_sql::SqlStore;

static FIELDS: [Field; 1] = [Field::new("count", "i64", FieldType::Integer)];
static COUNTER: Schema = Schema::new("bench_counter", &FIELDS);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let url = args
        .next()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let tasks: usize = args.next().map_or(Ok(16), |a| a.parse())?;
    let per_task: usize = args.next().map_or(Ok(5_000), |a| a.parse())?;

    let store = Arc::new(SqlStore::connect(&url).await?);
    store.attach(&COUNTER)?;
    store.prepare().await?;

    for (label, keys) in [("one row per task", tasks), ("one shared row", 1)] {
        let started = Instant::now();
        let mut handles = Vec::new();
        for t in 0..tasks {
            let store = store.clone();
            let key = EntityKey::new("bench_counter", format!("{label}-{}", t % keys));
            handles.push(tokio::spawn(async move {
                for _ in 0..per_task {
                    store
                        .update(&key, &mut |current| {
                            let count =
                                current.map_or(0, |r| r.value["count"].as_i64().unwrap_or(0));
                            Mutation::Put(json!({ "count": count + 1 }))
                        })
                        .await?;
                }
                Ok::<_, starmodel_core::StoreError>(())
            }));
        }
        for handle in handles {
            handle.await??;
        }
        let elapsed = started.elapsed();
        let total = tasks * per_task;
        println!(
            "{} {label}: {total} updates by {tasks} tasks in {:.2?}: {:.0} updates/s",
            store.dialect(),
            elapsed,
            total as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}
