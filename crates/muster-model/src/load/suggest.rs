//! "Did you mean …?" suggestions: the closest candidate by edit distance, when it is close
//! enough to be a plausible typo.

/// The candidate closest to `word`, if one is within a typo's distance of it.
pub(crate) fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word_lower = word.to_lowercase();
    if word_lower.chars().count() < 3 {
        // One or two letters are too little to guess from.
        return None;
    }
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let candidate_lower = candidate.to_lowercase();
        let distance = edit_distance(&word_lower, &candidate_lower);
        let longest = candidate_lower
            .chars()
            .count()
            .max(word_lower.chars().count());
        let shared_prefix = word_lower
            .chars()
            .zip(candidate_lower.chars())
            .take_while(|(a, b)| a == b)
            .count();
        // About one typo per three letters; more when the words start alike
        // (`retires` → `retry`, `max_events` → `max_events_per_run`).
        let plausible =
            distance <= (longest / 3).max(1) || (shared_prefix >= 3 && distance <= longest / 2);
        let better = match best {
            Some((d, _)) => distance < d,
            None => true,
        };
        if plausible && better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// A hint naming the closest candidate, or `None` when nothing is close.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Levenshtein distance over characters, with transpositions counted as one edit
/// (optimal string alignment), so `retyr` is one edit from `retry`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rolling rows: two rows back is needed for transpositions.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(before[j - 2] + 1);
            }
            current[j] = value;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("retyr", "retry"), 1);
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_only_plausible_typos() {
        let keys = ["name", "description", "team", "actions", "links"];
        assert_eq!(closest("nmae", keys), Some("name"));
        assert_eq!(closest("action", keys), Some("actions"));
        assert_eq!(closest("Actions", keys), Some("actions"));
        assert_eq!(closest("zzz", keys), None);
        assert_eq!(
            closest("retires", ["retry", "timeout", "options"]),
            Some("retry")
        );
        assert_eq!(
            closest("max_events", ["max_events_per_run", "concurrency"]),
            Some("max_events_per_run")
        );
        assert_eq!(closest("maybe", ["out", "true", "false", "error"]), None);
        assert_eq!(
            closest("ture", ["out", "true", "false", "error"]),
            Some("true")
        );
        assert_eq!(closest("z", ["x", "y"]), None);
        assert_eq!(closest("webhok", ["webhook", "manual"]), Some("webhook"));
    }
}
