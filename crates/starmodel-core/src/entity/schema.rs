/// The shape of an entity as the derive sees it: what stores, forms and APIs need to
/// know without the Rust type at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The entity's name.
    pub name: &'static str,
    /// The fields in declaration order.
    pub fields: &'static [Field],
}

impl Schema {
    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One field of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The field's name, also its signal name and column name.
    pub name: &'static str,
    /// The Rust type as written in the struct.
    pub rust_type: &'static str,
    /// The storage type the derive inferred.
    pub ty: FieldType,
    /// `true` for `Option<_>` fields.
    pub nullable: bool,
    /// `true` for the field marked `#[entity(id)]`.
    pub id: bool,
}

/// The storage type of a field, independent of any database dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// Signed or unsigned integers up to 64 bits.
    Integer,
    /// `f32`, `f64`.
    Float,
    /// `String` and other text.
    Text,
    /// `bool`.
    Bool,
    /// `uuid::Uuid`.
    Uuid,
    /// Date and time types.
    DateTime,
    /// Anything else, stored as JSON (collections, nested structs, enums with data).
    Json,
}
