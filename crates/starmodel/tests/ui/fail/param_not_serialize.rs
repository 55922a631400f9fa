use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

// Decodable from the request, but the typed action cannot encode it.
#[derive(Deserialize)]
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
