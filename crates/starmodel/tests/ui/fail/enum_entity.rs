use starmodel::prelude::*;

#[derive(Entity, Clone, Default, Serialize, Deserialize)]
pub enum Light {
    #[default]
    Off,
    On,
}

fn main() {}
