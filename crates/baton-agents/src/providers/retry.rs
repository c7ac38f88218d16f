//! When to try a provider call again, and how long to wait: exponential backoff with jitter,
//! or the provider's own `Retry-After` when it gives one.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;

/// How a retry waits; tests put one in that records the delay and returns at once.
pub type Sleeper = Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>;

/// How many times to try and how long to wait between tries.
#[derive(Clone)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The first backoff; each next one doubles.
    pub base: Duration,
    /// The longest backoff.
    pub cap: Duration,
    /// The longest wait a `Retry-After` may ask for; a longer one is cut to this.
    pub retry_after_cap: Duration,
    /// How to wait.
    pub sleep: Sleeper,
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("base", &self.base)
            .field("cap", &self.cap)
            .field("retry_after_cap", &self.retry_after_cap)
            .finish_non_exhaustive()
    }
}

impl Default for RetryPolicy {
    /// 4 tries, backoff from 500 ms doubling to at most 30 s, `Retry-After` honoured up to
    /// 60 s, waiting on the tokio clock.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
            sleep: Arc::new(|delay| Box::pin(tokio::time::sleep(delay))),
        }
    }
}

impl RetryPolicy {
    /// The wait before try `attempt + 1`, after try `attempt` (from 1) failed. A provider's
    /// `retry_after` wins (capped); otherwise `base * 2^(attempt-1)`, capped, with "equal
    /// jitter": half of it fixed and half random, so clients that failed together do not all
    /// come back together and the wait still grows.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.retry_after_cap);
        }
        let doublings = attempt.saturating_sub(1).min(20);
        let backoff = self.base.saturating_mul(1 << doublings).min(self.cap);
        let half = backoff / 2;
        let jitter_micros = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
        let jitter = Duration::from_micros(rand::random_range(0..=jitter_micros));
        half + jitter
    }
}

/// Reads a `Retry-After` value: whole seconds, or an HTTP date (a date in the past means no
/// wait). `None` when it is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>()
        && seconds.is_finite()
        && seconds >= 0.0
    {
        return Some(Duration::from_secs_f64(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_784_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(12))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(12));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_cap() {
        let policy = RetryPolicy::default();
        for attempt in 1..=12 {
            let full = Duration::from_millis(500)
                .saturating_mul(1 << (attempt - 1))
                .min(Duration::from_secs(30));
            let delay = policy.delay(attempt, None);
            assert!(
                delay >= full / 2 && delay <= full,
                "attempt {attempt}: {delay:?} not in [{:?}, {full:?}]",
                full / 2
            );
        }
        // Jitter: forty draws of the same attempt are not all equal.
        let draws: std::collections::BTreeSet<Duration> =
            (0..40).map(|_| policy.delay(3, None)).collect();
        assert!(draws.len() > 1);
    }

    #[test]
    fn a_retry_after_wins_over_backoff_but_is_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(60)
        );
    }
}
