use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Log {
    pub lines: i64,
}

#[events]
impl Log {
    #[event(mode = "append")]
    fn push(&mut self) -> Markup {
        self.lines += 1;
        html! { li { "line" } }
    }
}

fn main() {}
