use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
}

#[events]
impl Counter {
    #[event(selector = "#list", mode = "sideways")]
    fn add(&mut self) -> Markup {
        self.count += 1;
        html! { li { (self.count) } }
    }
}

fn main() {}
