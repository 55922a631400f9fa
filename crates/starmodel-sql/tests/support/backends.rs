/// Runs `async fn $name(Backend)` as one test per backend: `$name::sqlite`,
/// `$name::postgres`, `$name::mysql`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn mysql() {
                super::$name($crate::support::Backend::MySql).await;
            }
        }
    )+};
}
