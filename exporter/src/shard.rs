//! Scale-out: `--shard K/N` runs the K-th of N replicas, each scraping its own part of the
//! configuration's jobs × regions × roles. A unit of work belongs to the shard that wins its
//! rendezvous hash (highest score over the N shards, the score hashing the unit's job type,
//! job name, region and role with the shard number). So the split depends on what a unit is,
//! not on where it sits in the file: reordering jobs moves nothing, adding a job moves no
//! other, and going from N to N+1 replicas moves only about 1/(N+1) of the units, all to the
//! new shard. The hash is FNV-1a with a 64-bit finalizer, written out here so that it never
//! changes with a Rust release (std's hasher makes no such promise).

use std::fmt;
use std::str::FromStr;

use crate::self_metrics::JobLabels;

/// One replica's part: shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// Why a `--shard` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a shard: expected K/N with 1 <= K <= N, such as 2/4")]
pub struct ShardError(String);

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refused = || ShardError(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(refused)?;
        let index: u32 = index.trim().parse().map_err(|_| refused())?;
        let count: u32 = count.trim().parse().map_err(|_| refused())?;
        if index == 0 || index > count {
            return Err(refused());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The one shard of a single replica, which owns everything.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether this shard scrapes the unit `job`.
    pub fn owns(&self, job: &JobLabels) -> bool {
        self.count == 1 || owner(job, self.count) == self.index
    }
}

/// The shard (1-based) of `count` that a unit belongs to.
fn owner(job: &JobLabels, count: u32) -> u32 {
    let unit = fnv1a(&[
        job.job_type.as_bytes(),
        job.job_name.as_bytes(),
        job.region.as_bytes(),
        job.role.as_bytes(),
    ]);
    (1..=count)
        .max_by_key(|&shard| mix(unit ^ mix(u64::from(shard))))
        .unwrap_or(1)
}

/// FNV-1a over the parts, each followed by a 0xff byte (absent from UTF-8) so that
/// `("ab", "c")` and `("a", "bc")` differ.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.iter().chain(&[0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The 64-bit finalizer of MurmurHash3: every input bit reaches every output bit.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(count: usize) -> Vec<JobLabels> {
        (0..count)
            .map(|n| JobLabels {
                job_type: ["discovery", "static", "custom_namespace"][n % 3],
                job_name: format!("job-{}", n / 12),
                region: ["us-east-1", "eu-west-1", "ap-south-1", "sa-east-1"][(n / 3) % 4]
                    .to_owned(),
                role: if n % 5 == 0 {
                    String::new()
                } else {
                    format!("arn:aws:iam::{:012}:role/exporter", n % 7)
                },
            })
            .collect()
    }

    fn shards(count: u32) -> Vec<Shard> {
        (1..=count)
            .map(|index| format!("{index}/{count}").parse().unwrap())
            .collect()
    }

    #[test]
    fn shard_values_are_k_of_n_with_k_between_1_and_n() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!("1/1".parse(), Ok(Shard::WHOLE));
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "-1/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(
            "5/4".parse::<Shard>().unwrap_err().to_string(),
            "\"5/4\" is not a shard: expected K/N with 1 <= K <= N, such as 2/4"
        );
    }

    #[test]
    fn every_unit_belongs_to_exactly_one_shard_and_shards_are_balanced() {
        let units = units(1_200);
        for count in [1, 2, 3, 4, 7] {
            let shards = shards(count);
            let mut sizes = vec![0usize; shards.len()];
            for unit in &units {
                let owners: Vec<usize> = (0..shards.len())
                    .filter(|&i| shards[i].owns(unit))
                    .collect();
                assert_eq!(owners.len(), 1, "{unit:?} in {count} shards");
                sizes[owners[0]] += 1;
            }
            let fair = units.len() / shards.len();
            // Within 25% of an even split.
            assert!(
                sizes.iter().all(|&size| size.abs_diff(fair) * 4 <= fair),
                "{count} shards: {sizes:?}"
            );
        }
    }

    #[test]
    fn the_split_does_not_depend_on_order_and_is_the_same_every_run() {
        let units = units(300);
        let shard: Shard = "2/3".parse().unwrap();
        let forward: Vec<&JobLabels> = units.iter().filter(|u| shard.owns(u)).collect();
        let mut backward: Vec<&JobLabels> = units.iter().rev().filter(|u| shard.owns(u)).collect();
        backward.reverse();
        assert_eq!(forward, backward);
        // Pinned: a change of hash would silently reshuffle every deployment.
        let unit = JobLabels {
            job_type: "discovery",
            job_name: "AWS/Lambda".into(),
            region: "us-east-1".into(),
            role: String::new(),
        };
        let owners: Vec<u32> = (1..=8).map(|count| owner(&unit, count)).collect();
        assert_eq!(owners, PINNED_OWNERS);
    }

    const PINNED_OWNERS: [u32; 8] = [1, 2, 2, 4, 4, 4, 4, 4];

    #[test]
    fn one_more_replica_moves_only_units_to_the_new_shard() {
        let units = units(1_200);
        for count in 1..6 {
            let moved: Vec<(u32, u32)> = units
                .iter()
                .map(|unit| (owner(unit, count), owner(unit, count + 1)))
                .filter(|(before, after)| before != after)
                .collect();
            assert!(moved.iter().all(|&(_, after)| after == count + 1));
            let expected = units.len() / (count as usize + 1);
            assert!(
                moved.len().abs_diff(expected) * 4 <= expected,
                "{count} -> {}: {} moved",
                count + 1,
                moved.len()
            );
        }
    }
}
