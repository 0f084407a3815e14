//! The periodic timer the runtime drives for components that ask for one.

use std::time::Duration;

use tokio::time::{Instant, Interval, MissedTickBehavior};

/// A component's optional timer. Ticks are not bunched up after a slow call:
/// a component asked for a period, not for a number of calls.
pub struct ComponentTimer(Option<Interval>);

impl ComponentTimer {
    /// A timer firing every `period` (first tick one period from now), or none.
    pub fn new(period: Option<Duration>) -> Self {
        ComponentTimer(period.filter(|p| !p.is_zero()).map(|p| {
            let mut t = tokio::time::interval_at(Instant::now() + p, p);
            t.set_missed_tick_behavior(MissedTickBehavior::Delay);
            t
        }))
    }

    /// Waits for the next tick; never completes when there is no timer.
    pub async fn tick(&mut self) {
        match &mut self.0 {
            Some(t) => {
                t.tick().await;
            }
            None => std::future::pending().await,
        }
    }
}
