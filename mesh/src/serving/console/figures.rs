//! The console's figures are read from the same text `/metrics` serves, so the page and a
//! Prometheus scrape never disagree: samples parsed from the exposition format, and the rate
//! of a counter or the p99 of a histogram between two readings.
use std::collections::HashMap;

/// One sample: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Samples of the Prometheus text format; comments and lines it cannot read are skipped.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// `k="v",k2="v2"}` -> the pairs and what follows the closing brace (values unescaped).
fn parse_labels(mut s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        s = s.trim_start_matches(',');
        if let Some(after) = s.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = s.find("=\"")?;
        let key = s[..eq].to_owned();
        let mut value = String::new();
        let mut chars = s[eq + 2..].char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break eq + 2 + i + 1,
                c => value.push(c),
            }
        };
        labels.push((key, value));
        s = &s[end..];
    }
}

/// Counter readings keyed by a caller's key, with the time they were read.
#[derive(Debug, Default, Clone)]
pub struct Reading {
    pub values: HashMap<String, f64>,
}

impl Reading {
    pub fn add(&mut self, key: String, value: f64) {
        *self.values.entry(key).or_default() += value;
    }

    /// Per second since `before`, `seconds` ago; a counter that went down (a restart) counts
    /// from zero.
    pub fn rate(&self, before: Option<&Reading>, key: &str, seconds: f64) -> f64 {
        let now = self.values.get(key).copied().unwrap_or(0.0);
        let Some(before) = before else { return 0.0 };
        let then = before.values.get(key).copied().unwrap_or(0.0);
        let delta = if now >= then { now - then } else { now };
        if seconds > 0.0 { delta / seconds } else { 0.0 }
    }
}

/// The 99th percentile, in seconds, of what a cumulative histogram recorded between two
/// readings (`(upper bound, count)` pairs, any order); None when nothing was recorded. A
/// percentile past the last finite bound reads as that bound.
pub fn p99(now: &[(f64, f64)], before: &[(f64, f64)]) -> Option<f64> {
    let mut delta: Vec<(f64, f64)> = now
        .iter()
        .map(|(le, n)| {
            let then = before
                .iter()
                .find(|(b, _)| b == le)
                .map(|(_, n)| *n)
                .unwrap_or(0.0);
            (*le, (n - then).max(0.0))
        })
        .collect();
    delta.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = delta.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let last_finite = delta
        .iter()
        .rev()
        .find(|(le, _)| le.is_finite())
        .map(|(le, _)| *le);
    delta
        .iter()
        .find(|(_, n)| *n >= 0.99 * total)
        .map(|(le, _)| {
            if le.is_finite() {
                *le
            } else {
                last_finite.unwrap_or(*le)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_labels_escapes_and_infinity() {
        let text = "# TYPE x counter\n\
                    x_total{a=\"1\",b=\"q\\\"uo\\\\te\"} 3\n\
                    plain 2.5\n\
                    h_bucket{le=\"+Inf\"} 7\n\
                    broken{a=\"1\" \n";
        let samples = parse(text);
        assert_eq!(samples.len(), 3, "{samples:?}");
        assert_eq!(samples[0].name, "x_total");
        assert_eq!(samples[0].label("b"), Some("q\"uo\\te"));
        assert_eq!(samples[0].value, 3.0);
        assert_eq!(samples[1].value, 2.5);
        assert_eq!(samples[2].label("le"), Some("+Inf"));
    }

    #[test]
    fn rate_between_readings_and_after_a_reset() {
        let mut before = Reading::default();
        before.add("k".into(), 10.0);
        let mut now = Reading::default();
        now.add("k".into(), 30.0);
        assert_eq!(now.rate(Some(&before), "k", 2.0), 10.0);
        assert_eq!(now.rate(None, "k", 2.0), 0.0, "no earlier reading: no rate");
        assert_eq!(
            before.rate(Some(&now), "k", 1.0),
            10.0,
            "reset counts from 0"
        );
    }

    #[test]
    fn p99_of_the_calls_between_readings() {
        let inf = f64::INFINITY;
        let before = [(0.001, 100.0), (0.01, 100.0), (inf, 100.0)];
        // 100 new calls: 98 under 1 ms, 2 under 10 ms.
        let now = [(0.001, 198.0), (0.01, 200.0), (inf, 200.0)];
        assert_eq!(p99(&now, &before), Some(0.01));
        assert_eq!(p99(&before, &before), None, "nothing recorded");
        let slow = [(0.001, 100.0), (0.01, 100.0), (inf, 200.0)];
        assert_eq!(p99(&slow, &before), Some(0.01), "past the last bound");
    }
}
