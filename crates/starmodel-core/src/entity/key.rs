use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The id of one entity instance: a session id, [`GLOBAL_ID`](super::GLOBAL_ID) or a
/// record's primary key rendered as text. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityId(Arc<str>);

impl EntityId {
    /// Wraps a text id.
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for EntityId {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for EntityId {
    fn from(id: String) -> Self {
        Self::new(id)
    }
}

/// Names one stored instance: the entity's name and the instance's id.
///
/// ```
/// use starmodel_core::EntityKey;
/// let key = EntityKey::new("counter", "global");
/// assert_eq!(key.to_string(), "counter:global");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityKey {
    /// The entity's [`NAME`](super::Entity::NAME).
    pub entity: Arc<str>,
    /// The instance's id.
    pub id: EntityId,
}

impl EntityKey {
    /// A key from an entity name and an id.
    pub fn new(entity: impl Into<Arc<str>>, id: impl Into<EntityId>) -> Self {
        Self {
            entity: entity.into(),
            id: id.into(),
        }
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.entity, self.id)
    }
}
