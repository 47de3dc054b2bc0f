//! "Did you mean …?" for mistyped profile names.

/// Up to three candidates that look like `typed`, closest first, without duplicates.
pub(crate) fn closest<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let typed_lower = typed.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .filter(|c| *c != typed)
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let similarity = strsim::jaro_winkler(&typed_lower, &lower);
            // A name inside the other counts, unless it is too short to mean anything ("s"
            // is in most names).
            let contains = (typed_lower.len() >= 3 && lower.contains(&typed_lower))
                || (lower.len() >= 3 && typed_lower.contains(&lower));
            (similarity >= 0.8 || contains).then_some((similarity, candidate))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut names: Vec<String> = Vec::new();
    for (_, name) in scored {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
        if names.len() == 3 {
            break;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_and_not_far_ones() {
        let names = ["prod", "production-eu", "dev", "staging"];
        assert_eq!(closest("prd", names), ["prod"]);
        assert_eq!(closest("production", names), ["production-eu", "prod"]);
        assert_eq!(closest("stagin", names), ["staging"]);
        assert!(closest("zzz", names).is_empty());
    }
}
