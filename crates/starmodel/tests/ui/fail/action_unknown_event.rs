use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

#[events]
impl Counter {
    #[event]
    fn increment(&mut self, amount: Option<i64>) {
        self.count += amount.unwrap_or(1);
    }
}

fn main() {
    let _ = Counter::action().incremnt(Some(1));
}
