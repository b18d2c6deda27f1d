//! The in-process change feed: every accepted configuration change is published here after it
//! commits, so the check-in path can reflect it within a second without polling the store.

use crate::domain::BrandId;
use crate::fences::Fence;
use crate::offers::Offer;
use std::sync::Arc;
use tokio::sync::broadcast;
use uuid::Uuid;

/// One committed change.
#[derive(Debug, Clone)]
pub enum Change {
    /// A fence was created or replaced.
    FenceUpserted(Arc<Fence>),
    /// A fence was deleted.
    FenceRemoved {
        /// Its brand.
        brand: BrandId,
        /// Its id.
        id: Uuid,
    },
    /// An offer was created or replaced.
    OfferUpserted(Arc<Offer>),
    /// An offer was retired.
    OfferRemoved {
        /// Its brand.
        brand: BrandId,
        /// Its id.
        id: Uuid,
    },
    /// A brand was created or renamed.
    BrandUpserted {
        /// Its id.
        id: BrandId,
        /// Its display name.
        name: String,
    },
    /// Many fences changed at once (an import); consumers may prefer a reload.
    FencesImported {
        /// Their brand.
        brand: BrandId,
        /// The fences as stored.
        fences: Arc<Vec<Fence>>,
    },
}

/// Publisher side of the feed. Subscribers that fall behind get `Lagged` from broadcast and must
/// reload from the store: the feed is a fast path, the store stays the truth.
#[derive(Clone)]
pub struct ChangeFeed {
    tx: broadcast::Sender<Change>,
}

impl ChangeFeed {
    /// A feed buffering up to `capacity` changes per slow subscriber.
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
        }
    }

    /// Publishes a committed change; having no subscriber is fine.
    pub fn publish(&self, change: Change) {
        let _ = self.tx.send(change);
    }

    /// A new subscription, receiving changes published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new(4096)
    }
}
