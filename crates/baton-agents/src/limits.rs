//! Reading an error's words (and HTTP status, when the client gives one) into an
//! [`AgentErrorKind`]: which limit was hit, and when it lifts.
//!
//! Patterns, matched case-insensitively, first match wins:
//! - context: `prompt is too long`, `context_length_exceeded`, `context window`,
//!   `maximum context length`, `input token count`.
//! - usage limit (a plan or quota window): `usage limit`, `hit your limit`, `limit reached`
//!   (Claude Code's `Claude AI usage limit reached|<epoch seconds>`, `You've hit your limit ·
//!   resets 3am`, `5-hour limit reached`), `insufficient_quota`, `exceeded your current quota`,
//!   `credit balance is too low`, and a quota message naming a day (`per day`, `daily`).
//! - rate limit: HTTP 429, `rate limit`, `rate_limit`, `too many requests`,
//!   `resource_exhausted`, `quota`.
//! - auth: HTTP 401/403, `invalid api key`, `invalid x-api-key`, `api key not valid`,
//!   `authentication`, `unauthorized`, `/login`, `not logged in`.
//! - turn limit: `max turns`, `max_turns`, `maximum number of turns`, `turn limit`.
//! - server: HTTP 5xx or 529, `overloaded`, `internal server error`, `service unavailable`.
//!
//! The reset time: `<text>|<epoch seconds>` becomes RFC 3339; otherwise the words after
//! `resets `, `try again at `, `try again in `, `retry in `, `retry after ` or
//! `"retryDelay": "` are kept as the client wrote them.

use baton_protocol::AgentErrorKind;

/// The kind of an error from its message and, when known, its HTTP status.
pub fn classify_error(message: &str, http_status: Option<u64>) -> AgentErrorKind {
    let lower = message.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|needle| lower.contains(needle));
    let status = |code: u64| http_status == Some(code) || has_number(&lower, code);
    if has(&[
        "prompt is too long",
        "context_length_exceeded",
        "context window",
        "maximum context length",
        "input token count",
    ]) {
        return AgentErrorKind::ContextTooLong;
    }
    let quota_for_a_day = lower.contains("quota") && has(&["per day", "daily"]);
    if quota_for_a_day
        || has(&[
            "usage limit",
            "hit your limit",
            "limit reached",
            "insufficient_quota",
            "exceeded your current quota",
            "credit balance is too low",
        ]) && !has(&["rate limit reached", "rate_limit"])
    {
        return AgentErrorKind::UsageLimited {
            reset_at: reset_time(message),
        };
    }
    if status(429)
        || has(&[
            "rate limit",
            "rate_limit",
            "too many requests",
            "resource_exhausted",
            "quota",
        ])
    {
        return AgentErrorKind::RateLimited {
            reset_at: reset_time(message),
        };
    }
    if status(401)
        || status(403)
        || has(&[
            "invalid api key",
            "invalid x-api-key",
            "api key not valid",
            "authentication",
            "unauthorized",
            "/login",
            "not logged in",
        ])
    {
        return AgentErrorKind::Auth;
    }
    if has(&[
        "max turns",
        "max_turns",
        "maximum number of turns",
        "turn limit",
    ]) {
        return AgentErrorKind::TurnLimit;
    }
    let server_status = http_status.is_some_and(|code| (500..600).contains(&code))
        || [500, 502, 503, 504, 529]
            .iter()
            .any(|code| has_number(&lower, *code));
    if server_status || has(&["overloaded", "internal server error", "service unavailable"]) {
        return AgentErrorKind::Server;
    }
    AgentErrorKind::Other
}

/// Whether `text` holds `code` as a number of its own (not inside a longer number).
fn has_number(text: &str, code: u64) -> bool {
    let needle = code.to_string();
    let bytes = text.as_bytes();
    text.match_indices(&needle).any(|(start, _)| {
        let end = start + needle.len();
        let before = start.checked_sub(1).and_then(|i| bytes.get(i));
        let after = bytes.get(end);
        !before.is_some_and(u8::is_ascii_digit) && !after.is_some_and(u8::is_ascii_digit)
    })
}

/// When the limit lifts, as far as `message` says.
pub fn reset_time(message: &str) -> Option<String> {
    if let Some((_, tail)) = message.rsplit_once('|') {
        let digits: String = tail
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(seconds) = digits.parse::<i64>() {
            return Some(epoch_to_rfc3339(seconds));
        }
    }
    let lower = message.to_lowercase();
    if let Some(start) = lower.find("resets ") {
        let rest = &message[start + "resets ".len()..];
        let line = rest.lines().next().unwrap_or_default();
        return non_empty(line.trim().trim_end_matches('.'));
    }
    let markers = [
        "try again at ",
        "try again in ",
        "retry in ",
        "retry after ",
        "\"retrydelay\": \"",
        "\"retrydelay\":\"",
    ];
    markers.iter().find_map(|marker| {
        let start = lower.find(marker)? + marker.len();
        let rest = &message[start..];
        let end = rest
            .find(['\n', ',', ';', '"', ')', ']'])
            .unwrap_or(rest.len());
        let mut words = &rest[..end];
        if let Some(stop) = words.find(". ") {
            words = &words[..stop];
        }
        non_empty(words.trim().trim_end_matches('.'))
    })
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// Seconds since the Unix epoch as an RFC 3339 instant in UTC (`2025-06-15T15:06:40Z`).
pub fn epoch_to_rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(reset: Option<&str>) -> AgentErrorKind {
        AgentErrorKind::UsageLimited {
            reset_at: reset.map(str::to_string),
        }
    }

    fn rate(reset: Option<&str>) -> AgentErrorKind {
        AgentErrorKind::RateLimited {
            reset_at: reset.map(str::to_string),
        }
    }

    #[test]
    fn epoch_seconds_become_an_rfc3339_instant() {
        assert_eq!(epoch_to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(epoch_to_rfc3339(1_750_000_000), "2025-06-15T15:06:40Z");
        assert_eq!(epoch_to_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn claude_usage_limits_carry_their_reset_time() {
        assert_eq!(
            classify_error("Claude AI usage limit reached|1750000000", None),
            usage(Some("2025-06-15T15:06:40Z"))
        );
        assert_eq!(
            classify_error("You've hit your limit · resets 3am (Europe/Berlin)", None),
            usage(Some("3am (Europe/Berlin)"))
        );
        assert_eq!(
            classify_error("5-hour limit reached ∙ resets 8pm", None),
            usage(Some("8pm"))
        );
    }

    #[test]
    fn codex_usage_limit_keeps_the_time_it_names() {
        assert_eq!(
            classify_error(
                "You've hit your usage limit. Upgrade to Pro or try again at 3:04 PM.",
                None
            ),
            usage(Some("3:04 PM"))
        );
    }

    #[test]
    fn http_429_and_resource_exhausted_are_rate_limits() {
        assert_eq!(
            classify_error(
                "stream error: exceeded retry limit, last status: 429 Too Many Requests",
                None
            ),
            rate(None)
        );
        assert_eq!(
            classify_error(
                "[API Error: RESOURCE_EXHAUSTED: Quota exceeded. Please retry in 27.6s.]",
                None
            ),
            rate(Some("27.6s"))
        );
        assert_eq!(classify_error("slow down", Some(429)), rate(None));
        assert_eq!(
            classify_error(
                "Rate limit reached for requests. Please try again in 1.2s. Visit",
                None
            ),
            rate(Some("1.2s"))
        );
    }

    #[test]
    fn a_daily_quota_is_a_usage_limit() {
        assert_eq!(
            classify_error(
                "Quota exceeded for metric generate_content_requests per day",
                None
            ),
            usage(None)
        );
    }

    #[test]
    fn auth_context_turn_and_server_errors_are_told_apart() {
        assert_eq!(
            classify_error("Invalid API key · Please run /login", None),
            AgentErrorKind::Auth
        );
        assert_eq!(
            classify_error("Prompt is too long: 210000 tokens > 200000 maximum", None),
            AgentErrorKind::ContextTooLong
        );
        assert_eq!(
            classify_error("Reached max turns (5)", None),
            AgentErrorKind::TurnLimit
        );
        assert_eq!(
            classify_error("API Error: 529 {\"type\":\"overloaded_error\"}", None),
            AgentErrorKind::Server
        );
        assert_eq!(
            classify_error("read 14290 bytes", None),
            AgentErrorKind::Other
        );
    }
}
