//! The StarModel showcase server.
//!
//! ```sh
//! cargo run --release -p showcase   # then open http://127.0.0.1:5001
//! ```

use std::path::PathBuf;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr = std::env::var("STARMODEL_ADDR").unwrap_or_else(|_| "127.0.0.1:5001".to_owned());
    let data_dir = std::env::var_os("STARMODEL_DATA_DIR")
        .map_or_else(|| PathBuf::from(".starmodel"), PathBuf::from);
    showcase::app(&data_dir).await?.serve(addr).await?;
    Ok(())
}
