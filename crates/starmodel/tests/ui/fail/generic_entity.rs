use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub struct Boxed<T> {
    pub value: T,
}

fn main() {}
