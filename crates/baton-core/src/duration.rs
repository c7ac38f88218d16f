//! Durations as people write them in plans (`30s`, `10m`, `1h 30m`) and as baton prints them.
use std::time::Duration;

/// A duration text that humantime could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration \"{text}\": {reason}; write it like \"30s\", \"10m\" or \"1h 30m\"")]
pub struct DurationError {
    /// The text as written.
    pub text: String,
    /// What humantime said about it.
    pub reason: String,
}

/// Parses a human duration such as `30s`, `10m`, `1h 30m` or `850ms`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    humantime::parse_duration(text.trim()).map_err(|error| DurationError {
        text: text.to_owned(),
        reason: error.to_string(),
    })
}

/// A short human form: `850ms`, `42s`, `3m05s`, `1h02m` (truncated, never rounded up).
pub fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs == 0 {
        return format!("{}ms", duration.subsec_millis());
    }
    if secs < 60 {
        return format!("{secs}s");
    }
    if secs < 3600 {
        return format!("{}m{:02}s", secs / 60, secs % 60);
    }
    format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humantime_forms_parse() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("850ms").unwrap(), Duration::from_millis(850));
    }

    #[test]
    fn a_number_without_unit_is_rejected_with_the_text_and_a_fix() {
        let error = parse_duration("30").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("invalid duration \"30\""), "{message}");
        assert!(message.contains("write it like"), "{message}");
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn durations_format_in_the_short_human_form() {
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::ZERO), "0ms");
        assert_eq!(format_duration(Duration::from_millis(42_900)), "42s");
        assert_eq!(format_duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(format_duration(Duration::from_secs(3600 + 125)), "1h02m");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m00s");
    }
}
