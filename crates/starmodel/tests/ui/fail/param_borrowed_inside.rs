use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

#[events]
impl Counter {
    #[event]
    fn label(&mut self, label: Option<&str>) {
        self.count = label.map_or(0, |l| l.len() as i64);
    }
}

fn main() {}
