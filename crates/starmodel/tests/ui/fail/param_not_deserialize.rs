use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

pub struct Point {
    pub x: i64,
}

#[events]
impl Counter {
    #[event]
    fn jump(&mut self, to: Point) {
        self.count = to.x;
    }
}

fn main() {}
