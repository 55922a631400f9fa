// The DESIGN counter, shared by the trybuild fixtures and the integration tests'
// support module (`include!` this file, then call the macro):
//
//     counter! {}                       // `Counter` with `increment(amount)`
//     counter! { reset }                // ... and `reset`, which answers `#status`
//     counter! { reset #[event] fn set(&mut self, value: i64) { .. } }
//
// Events after the optional `reset` go into the same `#[events]` block, after
// `increment` (and `reset`), so each fixture keeps only what it is about.

macro_rules! counter {
    (reset $($more:tt)*) => {
        counter! {
            #[event(selector = "#status")]
            fn reset(&mut self) -> Markup {
                self.count = 0;
                self.update_count += 1;
                html! { p #status { "Reset." } }
            }
            $($more)*
        }
    };
    ($($more:tt)*) => {
        #[derive(Entity, Clone, Default, Serialize, Deserialize)]
        #[entity(store = "memory", scope = "session")]
        pub struct Counter {
            pub count: i64,
            pub update_count: i64,
        }

        #[events]
        impl Counter {
            #[event]
            fn increment(&mut self, amount: Option<i64>) {
                self.count += amount.unwrap_or(1);
                self.update_count += 1;
            }
            $($more)*
        }
    };
}
