//! Where each key path of a YAML document starts. serde_yaml_ng reports no position for
//! semantic errors (a bad value, a missing key, an unknown key), so the config module names the
//! key path and looks its line up here. The index walks the events of yaml-rust2's parser once,
//! keeping a stack of the open mappings and sequences, and records the line of every mapping key
//! (`a.b`) and sequence item (`a.b[0]`) under the spelling the config module uses.

use std::collections::HashMap;

use yaml_rust2::Event;
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Where each key path of a YAML document starts.
pub(crate) struct Lines {
    lines: HashMap<String, usize>,
}

impl Lines {
    /// Indexes `text`; never fails: a document that does not parse gives the paths seen before
    /// the error.
    pub(crate) fn index(text: &str) -> Lines {
        let mut walker = Walker::default();
        // `multi = false`: only the first document is read, the one serde_yaml_ng deserializes.
        // The error is dropped on purpose: serde_yaml_ng reports syntax errors with their line,
        // and the paths read before the error are still worth having.
        let _ = Parser::new_from_str(text).load(&mut walker, false);
        Lines {
            lines: walker.lines,
        }
    }

    /// The 1-based line of `path`, or of its nearest indexed ancestor (`a.b[3].c` -> `a.b[3]` ->
    /// `a.b` -> `a`) when the path itself is absent, or None.
    pub(crate) fn line(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(&line) = self.lines.get(path) {
                return Some(line);
            }
            // The last component starts at the last `.` (a key) or `[` (an index).
            path = &path[..path.rfind(['.', '['])?];
        }
    }
}

/// An open container while walking the events.
enum Frame {
    Mapping {
        path: String,
        next: Next,
    },
    Sequence {
        path: String,
        next: usize,
    },
    /// A container whose path cannot be spelled (a non-scalar key, or the value of one): its
    /// contents are not indexed, but it must be on the stack so that its end pops it.
    Unnamed,
}

/// What the next node of a mapping is.
enum Next {
    Key,
    /// The value of the key just read, with its path; None after a key that is not a scalar.
    Value(Option<String>),
}

#[derive(Default)]
struct Walker {
    stack: Vec<Frame>,
    lines: HashMap<String, usize>,
}

impl Walker {
    /// Notes a node that starts at `mark` and returns the path its contents go under: None for a
    /// key (keys have no contents worth indexing) and inside anything unnamed. `key` is the
    /// node's text when it is a scalar.
    fn place(&mut self, key: Option<&str>, mark: Marker) -> Option<String> {
        let path = match self.stack.last_mut() {
            // The document root: its path is empty and has no line of its own.
            None => return Some(String::new()),
            Some(Frame::Unnamed) => return None,
            Some(Frame::Sequence { path, next }) => {
                *next += 1;
                let item = format!("{path}[{}]", *next - 1);
                self.record(&item, mark);
                return Some(item);
            }
            Some(Frame::Mapping { path, next }) => match std::mem::replace(next, Next::Key) {
                Next::Value(value_path) => return value_path,
                // The entry's line is its key's line, so it is recorded here rather than when
                // the value starts (which may be on a later line).
                Next::Key => {
                    let key_path = key.map(|key| join(path, key));
                    *next = Next::Value(key_path.clone());
                    key_path?
                }
            },
        };
        self.record(&path, mark);
        None
    }

    fn record(&mut self, path: &str, mark: Marker) {
        // A duplicate key keeps its first line; serde_yaml_ng refuses the document anyway.
        if !self.lines.contains_key(path) {
            self.lines.insert(path.to_string(), mark.line());
        }
    }

    fn open(&mut self, mark: Marker, frame: impl FnOnce(String) -> Frame) {
        // A container that is a key, or inside an unnamed one, has no path: it is walked as an
        // unnamed container so that its end still pops the right frame.
        let frame = self.place(None, mark).map_or(Frame::Unnamed, frame);
        self.stack.push(frame);
    }
}

impl MarkedEventReceiver for Walker {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(text, ..) => {
                self.place(Some(&text), mark);
            }
            // An alias repeats a node indexed at its anchor; nothing inside it is indexed again.
            Event::Alias(_) => {
                self.place(None, mark);
            }
            Event::MappingStart(..) => self.open(mark, |path| Frame::Mapping {
                path,
                next: Next::Key,
            }),
            Event::SequenceStart(..) => {
                self.open(mark, |path| Frame::Sequence { path, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YACE: &str = "\
apiVersion: v1alpha1
sts-region: eu-west-1
discovery:
  exportedTagsOnMetrics:
    AWS/EC2: [Name]
  jobs:
    - type: AWS/EC2
      regions:
        - eu-west-1
      metrics:
        - name: CPUUtilization
          statistics: [Average]
          period: 300
    # a comment between jobs
    - type: AWS/S3
      regions: [us-east-1, eu-west-1]
      metrics:
        - name: BucketSizeBytes
          statistics:
            - Average
          period: 86400
          length: 172800
static:
  - namespace: AWS/AutoScaling
    name: must_be_set
    regions:
      - eu-west-1
    dimensions:
      - name: AutoScalingGroupName
        value: my-group
      - {name: Other, value: x}
    metrics:
      - name: GroupInServiceInstances
        statistics: [Minimum, Maximum]
";

    #[test]
    fn a_realistic_yace_config_is_indexed() {
        let lines = Lines::index(YACE);
        let expected = [
            ("apiVersion", 1),
            ("sts-region", 2),
            ("discovery", 3),
            ("discovery.exportedTagsOnMetrics.AWS/EC2", 5),
            ("discovery.exportedTagsOnMetrics.AWS/EC2[0]", 5),
            ("discovery.jobs", 6),
            ("discovery.jobs[0]", 7),
            ("discovery.jobs[0].regions[0]", 9),
            ("discovery.jobs[0].metrics[0].period", 13),
            ("discovery.jobs[1]", 15),
            ("discovery.jobs[1].regions[1]", 16),
            ("discovery.jobs[1].metrics[0].statistics[0]", 20),
            ("discovery.jobs[1].metrics[0].length", 22),
            ("static[0]", 24),
            ("static[0].name", 25),
            ("static[0].dimensions[0].name", 29),
            ("static[0].dimensions[0].value", 30),
            ("static[0].dimensions[1]", 31),
            ("static[0].dimensions[1].value", 31),
            ("static[0].metrics[0].statistics[1]", 34),
        ];
        for (path, line) in expected {
            assert_eq!(lines.line(path), Some(line), "{path}");
        }
    }

    #[test]
    fn keys_in_block_mappings_get_their_own_line() {
        let lines = Lines::index("a: 1\nb:\n  c: 2\n\n  d:\n    e\n");
        assert_eq!(lines.line("a"), Some(1));
        assert_eq!(lines.line("b"), Some(2));
        assert_eq!(lines.line("b.c"), Some(3));
        // The entry is where its key is, not where its value is.
        assert_eq!(lines.line("b.d"), Some(5));
    }

    #[test]
    fn sequence_items_get_the_line_where_they_start() {
        let lines = Lines::index("s:\n  - x\n  - k: 1\n    l: 2\n  - - y\n    - z\n");
        assert_eq!(lines.line("s[0]"), Some(2));
        assert_eq!(lines.line("s[1]"), Some(3));
        assert_eq!(lines.line("s[1].l"), Some(4));
        assert_eq!(lines.line("s[2]"), Some(5));
        assert_eq!(lines.line("s[2][1]"), Some(6));
    }

    #[test]
    fn flow_style_entries_are_indexed() {
        let lines = Lines::index("top:\n  r: [a, {key: x, value: y}]\n  m: {k: [1,\n    2]}\n");
        assert_eq!(lines.line("top.r[0]"), Some(2));
        assert_eq!(lines.line("top.r[1].value"), Some(2));
        assert_eq!(lines.line("top.m.k[0]"), Some(3));
        assert_eq!(lines.line("top.m.k[1]"), Some(4));
    }

    #[test]
    fn quoted_and_block_scalars_are_keys_like_plain_ones() {
        let lines = Lines::index("'a.b': 1\n\"c\": |\n  text\n  more\nd: 2\n? e\n: 3\n");
        assert_eq!(lines.line("a.b"), Some(1));
        assert_eq!(lines.line("c"), Some(2));
        assert_eq!(lines.line("d"), Some(5));
        assert_eq!(lines.line("e"), Some(6));
    }

    #[test]
    fn keys_that_are_not_scalars_are_skipped_with_their_values() {
        let lines = Lines::index("? [a, b]\n: {c: 1}\n? {d: 1}\n: [e]\nf: 2\n");
        assert_eq!(lines.line("f"), Some(5));
        assert_eq!(lines.lines.len(), 1, "{:?}", lines.lines);
    }

    #[test]
    fn aliases_index_nothing_inside_them() {
        let text = "base: &b\n  period: 60\njob:\n  <<: *b\n  copy: *b\n  after: 1\n";
        let lines = Lines::index(text);
        assert_eq!(lines.line("base.period"), Some(2));
        assert_eq!(lines.line("job.copy"), Some(5));
        assert_eq!(lines.line("job.after"), Some(6));
        // Resolves to the alias's own line, not to anything under the anchor.
        assert_eq!(lines.line("job.copy.period"), Some(5));
    }

    #[test]
    fn a_missing_key_falls_back_to_its_parent() {
        let lines = Lines::index("a:\n  b:\n    - c: 1\n");
        assert_eq!(lines.line("a.b[0].missing"), Some(3));
        assert_eq!(lines.line("a.b[7].c"), Some(2));
        assert_eq!(lines.line("a.nothing"), Some(1));
        assert_eq!(lines.line("elsewhere"), None);
        assert_eq!(lines.line(""), None);
    }

    #[test]
    fn broken_yaml_keeps_what_was_read_before_the_error() {
        let lines = Lines::index("a: 1\nb:\n  c: [1, 2\nd: 3\n");
        assert_eq!(lines.line("a"), Some(1));
        assert_eq!(lines.line("b.c[1]"), Some(3));
        assert_eq!(lines.line("d"), None);
    }

    #[test]
    fn only_the_first_document_is_indexed() {
        let lines = Lines::index("# comment\n---\na: 1\n---\nb: 2\n");
        assert_eq!(lines.line("a"), Some(3));
        assert_eq!(lines.line("b"), None);
    }

    #[test]
    fn empty_and_scalar_documents_index_nothing() {
        for text in [
            "",
            "# only a comment\n",
            "---\n",
            "just a scalar\n",
            "[1, 2",
        ] {
            let lines = Lines::index(text);
            assert!(
                lines.lines.keys().all(|path| path.starts_with('[')),
                "{text:?}"
            );
            assert_eq!(lines.line("a"), None, "{text:?}");
        }
    }
}
