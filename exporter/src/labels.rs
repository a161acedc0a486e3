//! Label sets shared, not copied. A job's scrape hands every string and every label set through
//! one [`Interner`], so a resource's labels are one [`Labels`] that all its series (each metric,
//! statistic and datapoint) point to, and a string that repeats across resources (a label name,
//! the region, a tag value) is stored once. At 100k series, owned strings per series were most of
//! the exporter's memory. Which labels a series has is decided by the scrape modules; this one
//! only stores them.

use std::collections::HashSet;
use std::sync::Arc;

/// A series' labels as `(name, value)` pairs, in the order they were given; cloning one is a
/// reference count, not a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<[(Arc<str>, Arc<str>)]>);

impl Labels {
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &str)> + ExactSizeIterator {
        self.0.iter().map(|(name, value)| (&**name, &**value))
    }

    /// The value of `name`: the last one given, as the snapshot reads a repeated name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .rev()
            .find_map(|(given, value)| (given == name).then_some(value))
    }

    /// The pairs themselves, for building sets that share their strings.
    pub(crate) fn pairs(&self) -> &[(Arc<str>, Arc<str>)] {
        &self.0
    }
}

impl<N: Into<Arc<str>>, V: Into<Arc<str>>> FromIterator<(N, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(pairs: I) -> Self {
        Labels(
            pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        )
    }
}

/// Hands out one shared copy of each string and each label set it is given. One lives as long
/// as the scrape of a job, or the building of a snapshot, and is dropped with it.
#[derive(Debug, Default)]
pub struct Interner {
    strings: HashSet<Arc<str>>,
    sets: HashSet<Labels>,
}

impl Interner {
    pub fn text(&mut self, text: &str) -> Arc<str> {
        if let Some(known) = self.strings.get(text) {
            return known.clone();
        }
        let text: Arc<str> = text.into();
        self.strings.insert(text.clone());
        text
    }

    /// `pairs` as a label set shared with every equal one handed out before.
    pub fn labels<N: AsRef<str>, V: AsRef<str>>(
        &mut self,
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Labels {
        let labels = pairs
            .into_iter()
            .map(|(name, value)| (self.text(name.as_ref()), self.text(value.as_ref())))
            .collect();
        self.share(labels)
    }

    /// The set equal to `labels` handed out before, or `labels`, now known.
    pub fn share(&mut self, labels: Labels) -> Labels {
        if let Some(known) = self.sets.get(&labels) {
            return known.clone();
        }
        self.sets.insert(labels.clone());
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_label_sets_and_strings_are_one_allocation() {
        let mut interner = Interner::default();
        let resize = interner.labels([("name", "resize"), ("region", "eu-west-1")]);
        let again = interner.labels([("name", "resize"), ("region", "eu-west-1")]);
        let other = interner.labels([("name", "thumbs"), ("region", "eu-west-1")]);
        assert!(Arc::ptr_eq(&resize.0, &again.0));
        assert!(!Arc::ptr_eq(&resize.0, &other.0));
        assert!(Arc::ptr_eq(&resize.pairs()[1].1, &other.pairs()[1].1));
        assert!(Arc::ptr_eq(&resize.pairs()[0].0, &other.pairs()[0].0));
    }

    #[test]
    fn labels_keep_their_order_and_the_last_value_of_a_repeated_name_is_read() {
        let labels: Labels = [("name", "a"), ("region", "r"), ("name", "b")]
            .into_iter()
            .collect();
        let names: Vec<&str> = labels.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["name", "region", "name"]);
        assert_eq!(labels.get("name"), Some("b"));
        assert_eq!(labels.get("account_id"), None);
    }
}
